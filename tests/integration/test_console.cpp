// The console log and what start says when init does not come up: init's stdout and stderr
// go through a writer that keeps log/CTID.console within its cap, and a start whose init
// died before or right after exec fails and leaves nothing. CTIDs 11400-11499.

#include "support/proc_info.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/ve.hpp>

#include "kernel/spawn_server.hpp"
#include "model/layout.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;

namespace {

std::uintmax_t size_of(const std::filesystem::path& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

// The processes that hold a file or directory of this state root open: the console writer
// holds log/, nothing may once the VE is stopped.
std::vector<pid_t> holders(const temp_root& root) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fec;
    for (std::filesystem::directory_iterator fd(it->path() / "fd", fec), fend; !fec && fd != fend;
         fd.increment(fec)) {
      auto target = std::filesystem::read_symlink(fd->path(), fec);
      if (!fec && target.string().rfind(root.path().string(), 0) == 0) {
        found.push_back(std::stoi(name));
        break;
      }
      fec.clear();
    }
  }
  return found;
}

// Our descriptors but the socket to the spawn server, which stays once a spawn started it.
std::set<std::string> own_fds() {
  std::set<std::string> fds;
  const auto server = std::to_string(detail::spawn_server_socket());
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    if (e.path().filename() == server) continue;
    std::error_code ec;
    fds.insert(e.path().filename().string() + " " +
               std::filesystem::read_symlink(e.path(), ec).string());
  }
  return fds;
}

// Waits until the console log (and the one it rotated to) holds `text`.
bool log_shows(const detail::ve_paths& l, const std::string& text) {
  for (int i = 0; i < 100; ++i) {
    auto both = test::read_text(l.console_log_rotated) + test::read_text(l.console_log);
    if (both.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("a console flood stays within the log's cap, and the writer goes with the VE",
          "[ve][console]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11400);
  MUST(v.create());
  const auto l = detail::layout_of(root.path(), v.id());
  const auto fds_before = own_fds();

  // What init prints at boot reaches the log.
  MUST(v.start({.init = {"/bin/sh", "-c", "echo boot-says-hello; exec /sbin/init"}}));
  CHECK(log_shows(l, "boot-says-hello"));

  // The writer is init's parent, under a name of its own.
  const pid_t init = MUST(v.status()).init_pid;
  const pid_t writer = test::parent_of(init);
  CHECK(test::comm_of(writer) == "ovz-monitor");

  // VE root reopens init's stdout and writes 64 MiB, then a last line.
  auto r = MUST(v.exec({"/bin/sh", "-c",
                        "head -c 67108864 /dev/zero >> /proc/1/fd/1 && "
                        "echo the-last-words >> /proc/1/fd/1"}));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(log_shows(l, "the-last-words"));
  CHECK(size_of(l.console_log) <= detail::console_log_max);
  CHECK(size_of(l.console_log_rotated) <= detail::console_log_max);

  MUST(v.stop({.fast = true}));
  CHECK_FALSE(test::pid_alive(writer));
  CHECK(holders(root).empty());
  CHECK(own_fds() == fds_before);
  CHECK(test::leftovers(root).empty());
  CHECK(log_shows(l, "the-last-words"));

  MUST(v.destroy());
  CHECK_FALSE(std::filesystem::exists(l.console_log));
  CHECK_FALSE(std::filesystem::exists(l.console_log_rotated));
}

TEST_CASE("start fails when init is killed before it runs, and leaves nothing",
          "[ve][errors][console]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11401);
  MUST(v.create());
  const auto fds_before = own_fds();

  // A profile that kills execve: the child dies on its very way to exec. (A memory limit too
  // small for it, the case the review found, is now refused before start.)
  const auto profile = root.path() / "no-exec.profile";
  std::ofstream(profile) << "default allow\nkill execve\n";
  MUST(v.set_security({.seccomp_profile = profile.string()}, true));
  auto r = v.start();
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  const auto& msg = r.error().message();
  CHECK(msg.find("VE 11401") != std::string::npos);
  CHECK(msg.find("died before it ran: killed by signal 31 (SIGSYS)") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
  CHECK(holders(root).empty());
  CHECK(own_fds() == fds_before);

  MUST(v.set_security({.seccomp_profile = "default"}, true));
  MUST(v.start());
  CHECK(MUST(v.status()).state == ve_state::running);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("start fails with init's exit status when init exits at once, and leaves nothing",
          "[ve][errors][console]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11402);
  MUST(v.create());
  const auto l = detail::layout_of(root.path(), v.id());
  auto r = v.start({.init = {"/bin/sh", "-c", "echo cannot-go-on; exit 3"}});
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().message().find("VE 11402") != std::string::npos);
  CHECK(r.error().message().find("ended at once") != std::string::npos);
  CHECK(r.error().message().find("status 3") != std::string::npos);
  // What it said on its console before it gave up is in the error.
  CHECK(r.error().message().find("cannot-go-on") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
  CHECK(holders(root).empty());
  // Its last words are in the log by the time start returns.
  CHECK(test::read_text(l.console_log).find("cannot-go-on") != std::string::npos);
}
