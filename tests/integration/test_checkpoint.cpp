// What this host's CRIU can do, as libovz finds it: CRIU's own check of the kernel, its
// version and features, and a missing criu said so; and a VE checkpointed and restored where
// CRIU can (the lab), refused with CRIU's reason where it cannot. CTIDs 17100-17109 (17110-17119: the networking suite).

#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"
#include "support/userns_root.hpp"
#include "support/ve_shell.hpp"

#include <ovz/checkpoint.hpp>

#include "kernel/cgroup_mounts.hpp"

#include <chrono>
#include <fstream>
#include <thread>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace ovz;

namespace {

std::string first_line_of(const char* command) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(command, "r"), ::pclose);
  char line[256] = {};
  if (!p || !std::fgets(line, sizeof line, p.get())) return {};
  return line;
}

bool criu_installed() { return std::system("command -v criu >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("checkpoint support is CRIU's own check of this kernel, with its reason where it fails",
          "[checkpoint]") {
  test::require_root();
  if (!criu_installed()) {
    WARN("SKIPPED: criu is not installed (apt-get install criu)");
    return;
  }
  const bool criu_says = std::system("criu check >/dev/null 2>&1") == 0;
  auto ours = checkpoint_supported();
  INFO((ours ? std::string("supported") : ours.error().message()));
  CHECK(static_cast<bool>(ours) == criu_says);
  if (!ours) {
    CHECK(ours.error().is(errc::unsupported));
    CHECK(ours.error().message().find("CRIU cannot checkpoint on this kernel: ") == 0);
  }
  // Asked once: the same answer again.
  CHECK(static_cast<bool>(checkpoint_supported()) == criu_says);

  auto tools = MUST(checkpoint_tools_here());
  CHECK(first_line_of("criu --version") == "Version: " + tools.criu_version + "\n");
  // Memory tracking is what online migration needs; CRIU finds it where it can check at all.
  if (criu_says) CHECK(tools.memory_tracking);
}

TEST_CASE("a host without criu is told so, naming the package", "[checkpoint]") {
  ::setenv("OVZ_CRIU", "/nonexistent/criu", 1);
  auto tools = checkpoint_tools_here();
  ::unsetenv("OVZ_CRIU");
  REQUIRE_FALSE(tools);
  CHECK(tools.error().is(errc::unsupported));
  CHECK(tools.error().message() ==
        "/nonexistent/criu is not installed (apt-get install criu)");
}

namespace {

// A VE whose shell counts into /tmp/count, five times a second.
void start_counting(const ve& v) {
  MUST(v.exec({"sh", "-c",
               "i=0; (while :; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; sleep 0.2; done) "
               "</dev/null >/dev/null 2>&1 &"}));
}

long count_in(const ve& v) {
  auto r = MUST(v.exec({"cat", "/tmp/count"}));
  return std::atol(r.out.c_str());
}

// The host's cgroup mounts and their options (nsdelegate, memory_recursiveprot), which any
// new cgroup2 mount in the host's cgroup namespace would reset for the whole host.
std::string host_cgroup_options() {
  std::string out;
  for (const auto& m : detail::host_cgroup_mounts()) {
    out += m.mount_point;
    for (const auto& o : m.options) out += " " + o;
    out += "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("a checkpointed VE comes back with its processes where they were", "[checkpoint]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::running_ve r(17100);
  start_counting(r.v);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const auto before = MUST(r.v.exec({"sh", "-c", "pidof sleep >/dev/null; ps -o pid,comm | grep -v ps"}));
  // What the VE sees of cgroups: its own, through its cgroup namespace.
  const char* cgroup_view = "cat /proc/1/cgroup /proc/self/cgroup; ls /sys/fs/cgroup";
  const auto view = MUST(r.v.exec({"sh", "-c", cgroup_view})).out;
  const auto host_options = host_cgroup_options();
  const double up_before = test::uptime_of(r.v);
  const auto read_at = std::chrono::steady_clock::now();
  MUST(r.v.checkpoint());
  CHECK(host_cgroup_options() == host_options);
  CHECK(std::filesystem::exists(r.v.dump_path() / "manifest"));
  CHECK(MUST(r.v.status()).state == ve_state::stopped);
  const long at_dump = std::atol(test::read_text(r.root.path() / "private/17100/fs/tmp/count").c_str());

  MUST(r.v.restore());
  auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const long after = count_in(r.v);
  INFO("counted " << at_dump << " at the dump, " << after << " after the restore");
  CHECK(after > at_dump);
  CHECK(after < at_dump + 20);  // went on from where it was, not from 0
  // Its uptime too: on from where it was, never more than the time that went by.
  const double up_after = test::uptime_of(r.v);
  INFO("uptime " << up_before << " s before the checkpoint, " << up_after << " s after");
  CHECK(up_after > up_before);
  CHECK(up_after < up_before + test::seconds_since(read_at) + 1);
  CHECK(MUST(r.v.exec({"sh", "-c", cgroup_view})).out == view);
  CHECK(host_cgroup_options() == host_options);
  MUST(r.v.stop({.fast = true}));
  CHECK(test::leftovers(r.root).empty());
}

TEST_CASE("a checkpoint that fails leaves the VE running and no directory", "[checkpoint]") {
  test::require_root();
  test::running_ve r(17101);
  const auto init = MUST(r.v.status()).init_pid;
  const auto supported = checkpoint_supported();
  // Where CRIU can work, the directory cannot be made: a file stands where its parent goes.
  const auto blocked = r.root.path() / "blocked";
  { std::ofstream(blocked) << "not a directory\n"; }
  auto dumped = supported ? r.v.checkpoint(blocked / "dump") : r.v.checkpoint();
  REQUIRE_FALSE(dumped);
  if (!supported) {
    CHECK(dumped.error().is(errc::unsupported));
    CHECK(dumped.error().message().find("CRIU cannot checkpoint on this kernel: ") !=
          std::string::npos);
  }
  auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.init_pid == init);
  CHECK_FALSE(std::filesystem::exists(r.v.dump_path()));
  CHECK_FALSE(std::filesystem::exists(r.v.dump_path().parent_path()));
}

TEST_CASE("a restored VE still holds its flock, its removed-but-open file and its inotify watch",
          "[checkpoint]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::running_ve r(17102);
  test::install_holder(r.root, r.v);
  MUST(r.v.exec({"sh", "-c",
                 "mkdir /tmp/h && /holder hold /tmp/h </dev/null >/tmp/holder.log 2>&1 & "
                 "for i in $(seq 50); do [ -e /tmp/h/ready ] && exit 0; sleep 0.1; done; exit 1"}));
  CHECK(MUST(r.v.exec({"/holder", "check", "/tmp/h"})).out == "locked\n");

  MUST(r.v.checkpoint());
  MUST(r.v.restore());

  // The lock is still the holder's: nobody else gets it.
  CHECK(MUST(r.v.exec({"/holder", "check", "/tmp/h"})).out == "locked\n");
  // The watch still reports, and the removed file still reads through its descriptor.
  MUST(r.v.exec({"sh", "-c", "echo changed > /tmp/h/watched"}));
  auto events = MUST(r.v.exec({"sh", "-c",
                               "for i in $(seq 50); do [ -s /tmp/h/events ] && break; sleep 0.1; "
                               "done; cat /tmp/h/events /tmp/holder.log"}));
  CHECK(events.out == "event 1: kept after removal\n");
  MUST(r.v.stop({.fast = true}));
  CHECK(test::leftovers(r.root).empty());
}

TEST_CASE("a suspended VE stays suspended through a checkpoint that leaves it running, and "
          "comes back running from one that stopped it",
          "[checkpoint][suspend]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::running_ve r(17103);
  start_counting(r.v);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  MUST(r.v.suspend());
  const auto count = r.root.path() / "private/17103/fs/tmp/count";
  const auto frozen_at = test::read_text(count);

  MUST(r.v.checkpoint({}, {.leave_running = true}));
  CHECK(MUST(r.v.status()).suspended);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(test::read_text(count) == frozen_at);

  MUST(r.v.checkpoint());
  MUST(r.v.restore());
  const auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  CHECK_FALSE(st.suspended);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(count_in(r.v) > std::atol(frozen_at.c_str()));
  MUST(r.v.stop({.fast = true}));
  CHECK(test::leftovers(r.root).empty());
}

TEST_CASE("a VE in a user namespace comes back from a checkpoint with its ids mapped as before",
          "[checkpoint][userns]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::userns_root root;
  auto v = root.open(17104);
  MUST(v.create({.userns = true}));
  MUST(v.start());
  start_counting(v);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const auto map = MUST(v.exec({"cat", "/proc/self/uid_map"})).out;
  auto dumped = v.checkpoint();
  INFO((dumped ? "" : dumped.error().message()));
  REQUIRE(dumped);
  auto restored = v.restore();
  INFO((restored ? "" : restored.error().message()));
  REQUIRE(restored);
  const long at = count_in(v);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(count_in(v) > at);
  CHECK(MUST(v.exec({"cat", "/proc/self/uid_map"})).out == map);
  MUST(v.stop({.fast = true}));
  MUST(v.destroy());
  CHECK(test::leftovers(root.get()).empty());
}
