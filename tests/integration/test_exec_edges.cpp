// exec and enter at the edges: a PID namespace the VE made for itself, a stop racing the
// command, the last output of a shell. CTIDs 11350-11359.

#include "support/enter_script.hpp"
#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;

namespace {

std::string ns_of(pid_t pid, const char* ns) {
  return std::filesystem::read_symlink(fmt::format("/proc/{}/ns/{}", pid, ns)).string();
}

}  // namespace

TEST_CASE("a PID namespace nested in a VE is not taken for the VE's init", "[exec]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11350);
  MUST(v.create());
  test::install_escape_probe(root, v);
  MUST(v.start());
  const pid_t init = MUST(v.status()).init_pid;
  REQUIRE(init > 0);
  // The nested init gets a host PID below the VE's init (unless the VE's own came from
  // below 300 after a wrap), so that a cgroup listing its processes in PID order (v1) shows
  // it first. Only the next PIDs handed out change: no process is touched.
  std::ofstream("/proc/sys/kernel/ns_last_pid") << 300;
  auto nested = MUST(v.exec({"/escape_probe", "nested"}));
  REQUIRE(nested.out == "nested started\n");

  CHECK(MUST(v.status()).init_pid == init);
  auto r = MUST(v.exec({"/bin/readlink", "/proc/self/ns/pid"}));
  CHECK(r.out == ns_of(init, "pid") + "\n");
  auto entered = test::enter_script(v, "readlink /proc/self/ns/pid; exit\n");
  CHECK(entered.seen.find(ns_of(init, "pid")) != std::string::npos);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("exec racing stop says that the VE stopped", "[exec]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11351);
  MUST(v.create());
  for (int round = 0; round < 10; ++round) {
    MUST(v.start());
    std::thread stopper([&] {
      ::usleep(20000);
      (void)v.stop({.fast = true});
    });
    for (;;) {
      auto r = v.exec({"/bin/true"});
      if (r) continue;
      INFO(r.error().message());
      CHECK(r.error().code() == make_error_code(errc::not_running));
      CHECK(r.error().message().find("No such process") == std::string::npos);
      break;
    }
    stopper.join();
  }
}

TEST_CASE("enter relays everything a shell wrote before it exited", "[exec]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11352);
  MUST(v.create());
  MUST(v.start());
  // More than one read's worth, written just before the shell exits.
  auto entered = test::enter_script(v, "yes 0123456789 | head -n 4000; echo THE-$((1+1))END; exit\n");
  CHECK(entered.seen.find("THE-2END") != std::string::npos);
  MUST(v.stop({.fast = true}));
}
