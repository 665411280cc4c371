// A VE's own /proc views from the companion kernel module (kmod/): its memory limit as its
// MemTotal, its CPUs in cpuinfo, its age as its uptime; and the module, pinned while a VE
// uses it, free to go after. Runs where the module is loaded or can be ($OVZ_KMOD_DIR, the
// lab's); skipped with the reason elsewhere. And the same views from LXCFS, without the
// module, where it runs. And what no view changes: a VE told it has N CPUs runs on N, which
// nproc reads from its affinity. CTIDs 17203, 17204, 17207, 17208, 17220-17223.

#include "support/beancounters.hpp"
#include "support/kmod.hpp"
#include "support/lxcfs.hpp"
#include "support/temp_root.hpp"
#include "support/userns_root.hpp"

#include <ovz/host.hpp>
#include <ovz/ve.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

using namespace ovz;
using ovz::test::module_here;
using ovz::test::stop_then_unload;
using ovz::test::ubc;

namespace {

// The number after `key` in /proc/meminfo as the VE reads it, in kB.
long meminfo_kb(ve& v, const std::string& key) {
  auto r = MUST(v.exec({"/bin/sh", "-c", "grep '^" + key + ":' /proc/meminfo"}));
  std::istringstream in(r.out);
  std::string name;
  long kb = -1;
  in >> name >> kb;
  return kb;
}

}  // namespace

TEST_CASE("a VE sees its own memory, CPUs and age in /proc where the module is loaded",
          "[kmod][proc-views]") {
  test::require_root();
  if (!module_here()) return;
  test::temp_root root;
  auto v = root.open(17203);
  MUST(v.create());
  ve_params p = ubc(ubc_resource::physpages, "0:256M");
  p.cpu.cpus = 1;
  MUST(v.set(p, true));
  const auto started = std::chrono::steady_clock::now();
  MUST(v.start());

  CHECK(meminfo_kb(v, "MemTotal") == 256 * 1024);
  const long free_before = meminfo_kb(v, "MemFree");
  // 48 MiB in the VE's /dev/shm (its tmpfs pages are charged to its memory cgroup).
  MUST(v.exec({"/bin/sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null"}));
  const long free_after = meminfo_kb(v, "MemFree");
  CHECK(free_before - free_after >= 40 * 1024);

  CHECK(MUST(v.exec({"/bin/sh", "-c", "grep -c ^processor /proc/cpuinfo"})).out == "1\n");
  CHECK(MUST(v.exec({"/bin/sh", "-c", "nproc"})).out == "1\n");
  auto uptime = MUST(v.exec({"/bin/cat", "/proc/uptime"})).out;
  const double age = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(std::stod(uptime) <= age + 1);
  auto loadavg = MUST(v.exec({"/bin/cat", "/proc/loadavg"})).out;
  CHECK_THAT(loadavg, Catch::Matchers::Matches("[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+/[0-9]+ [0-9]+\n"));
  // /proc/user_beancounters, OpenVZ's layout: inside, this VE alone; on the host, every VE.
  auto ubc_inside = MUST(v.exec({"/bin/cat", "/proc/user_beancounters"})).out;
  CHECK(ubc_inside.starts_with("Version: 2.5\n"));
  CHECK_THAT(ubc_inside, Catch::Matchers::Contains("17203:  kmemsize"));
  const std::regex ctid_line(R"(^ *[0-9]+:)", std::regex::multiline);
  CHECK(std::distance(std::sregex_iterator(ubc_inside.begin(), ubc_inside.end(), ctid_line),
                      std::sregex_iterator()) == 1);
  CHECK_THAT(ubc_inside, Catch::Matchers::Contains("physpages"));
  std::ifstream host_ubc("/proc/user_beancounters");
  const std::string on_host((std::istreambuf_iterator<char>(host_ubc)), {});
  CHECK_THAT(on_host, Catch::Matchers::Contains("17203:  kmemsize"));

  // A live change shows at once: its CPUs, its beancounters' barrier and limit.
  ve_params live = ubc(ubc_resource::numproc, "77");
  live.cpu.cpus = 2;
  MUST(v.set(live, false));
  CHECK(MUST(v.exec({"/bin/sh", "-c", "grep -c ^processor /proc/cpuinfo"})).out ==
        std::to_string(std::min(2L, ::sysconf(_SC_NPROCESSORS_ONLN))) + "\n");
  CHECK(MUST(v.exec({"/bin/sh", "-c", "nproc"})).out ==
        std::to_string(std::min(2L, ::sysconf(_SC_NPROCESSORS_ONLN))) + "\n");
  CHECK_THAT(MUST(v.exec({"/bin/sh", "-c", "grep numproc /proc/user_beancounters"})).out,
             Catch::Matchers::Matches(" *numproc +[0-9]+ +[0-9]+ +77 +77 +[0-9]+\n"));

  // The plan names the binds; the ovzproc the start mounted for them is gone from the host.
  CHECK(MUST(v.plan()).find("proc views   module from ") != std::string::npos);
  std::ifstream mounts("/proc/self/mountinfo");
  const std::string host_mounts((std::istreambuf_iterator<char>(mounts)), {});
  CHECK(host_mounts.find("ovzproc") == std::string::npos);

  stop_then_unload(v);
  MUST(v.destroy());
}

TEST_CASE("a VE in a user namespace sees its own /proc too", "[kmod][proc-views][userns]") {
  test::require_root();
  if (!module_here()) return;
  test::userns_root root;
  auto v = root.open(17208);
  MUST(v.create({.userns = true}));
  MUST(v.set(ubc(ubc_resource::physpages, "0:128M"), true));
  MUST(v.start());
  CHECK(meminfo_kb(v, "MemTotal") == 128 * 1024);
  CHECK_THAT(MUST(v.exec({"/bin/cat", "/proc/user_beancounters"})).out,
             Catch::Matchers::Contains("17208:  kmemsize"));
  stop_then_unload(v);
  MUST(v.destroy());
}

TEST_CASE("a VE's /proc views come back with it from a checkpoint", "[kmod][proc-views][checkpoint]") {
  test::require_root();
  if (!module_here() || !test::checkpoint_works_here()) return;
  test::temp_root root;
  auto v = root.open(17204);
  MUST(v.create());
  MUST(v.set(ubc(ubc_resource::physpages, "0:192M"), true));
  MUST(v.start());
  REQUIRE(meminfo_kb(v, "MemTotal") == 192 * 1024);
  MUST(v.checkpoint());
  MUST(v.restore());
  CHECK(meminfo_kb(v, "MemTotal") == 192 * 1024);
  CHECK_THAT(MUST(v.exec({"/bin/cat", "/proc/user_beancounters"})).out,
             Catch::Matchers::Contains("17204:  kmemsize"));
  // Registered again by its new monitor.
  stop_then_unload(v);
  MUST(v.destroy());
}

TEST_CASE("a VE's load average rises under its own spinners, not under another VE's, and falls "
          "after, where the module is loaded",
          "[kmod][proc-views][loadavg]") {
  test::require_root();
  if (!module_here()) return;
  test::temp_root root;
  auto busy = root.open(17222);
  auto idle = root.open(17223);
  for (ve* v : {&busy, &idle}) {
    MUST(v->create());
    MUST(v->start());
  }
  auto load1 = [](const ve& v) {
    return std::stod(MUST(v.exec({"/bin/cat", "/proc/loadavg"})).out);
  };
  // The module samples every 5 s; four runnable tasks lift the 1-minute figure past 1 in
  // about 17 s.
  auto r = MUST(busy.exec({"/bin/sh", "-c",
                           "echo 'while :; do :; done' >/tmp/spin.sh; "
                           "for i in 1 2 3 4; do sh /tmp/spin.sh >/dev/null 2>&1 & "
                           "echo $! >>/tmp/spin.pids; done"}));
  REQUIRE(r.exit_code == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  double peak = load1(busy);
  while (peak < 1.0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    peak = load1(busy);
  }
  CHECK(peak >= 1.0);
  CHECK(load1(idle) < 0.5);

  REQUIRE(MUST(busy.exec({"/bin/sh", "-c", "kill $(cat /tmp/spin.pids)"})).exit_code == 0);
  double after = peak;
  const auto fall_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (after >= peak && std::chrono::steady_clock::now() < fall_deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    after = load1(busy);
  }
  CHECK(after < peak);

  MUST(idle.stop({.fast = true}));
  stop_then_unload(busy);
  for (ve* v : {&busy, &idle}) MUST(v->destroy());
}

TEST_CASE("without the module, a VE sees its own memory through LXCFS where it runs",
          "[lxcfs][proc-views]") {
  test::require_root();
  if (::access("/dev/ovz", F_OK) == 0) {
    WARN("SKIPPED: the ovz module is loaded, and serves the views before LXCFS");
    return;
  }
  test::temp_root root;
  auto lxcfs = test::own_lxcfs::start(root.path() / "lxcfs");
  if (!lxcfs) return;
  CHECK(view_backends_here().proc_files == "LXCFS");
  auto v = root.open(17207);
  MUST(v.create());
  MUST(v.set(ubc(ubc_resource::physpages, "0:160M"), true));
  MUST(v.start());
  CHECK(meminfo_kb(v, "MemTotal") == 160 * 1024);
  CHECK(MUST(v.plan()).find("proc views   LXCFS from ") != std::string::npos);
  // CRIU cannot dump a FUSE mount: the binds go as externals and come back from LXCFS.
  if (test::checkpoint_works_here()) {
    MUST(v.checkpoint());
    MUST(v.restore());
    CHECK(meminfo_kb(v, "MemTotal") == 160 * 1024);
  }
  MUST(v.stop({.fast = true}));
  MUST(v.destroy());
}

TEST_CASE("a VE with --cpus N runs on N of the host's CPUs and nproc says N, live too",
          "[proc-views][cpu]") {
  test::require_root();
  const long host_cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (host_cpus < 2) {
    WARN("SKIPPED: this host has one CPU: no VE can be given fewer");
    return;
  }
  test::temp_root root;
  auto a = root.open(17220);
  auto b = root.open(17221);
  for (ve* v : {&a, &b}) {
    MUST(v->create());
    ve_params one;
    one.cpu.cpus = 1;
    MUST(v->set(one, true));
    MUST(v->start());
  }
  auto in = [](const ve& v, const char* script) {
    auto r = MUST(v.exec({"/bin/sh", "-c", script}));
    INFO(script << "\n" << r.err);
    CHECK(r.exit_code == 0);
    return r.out;
  };
  const char* init_cpus = "grep Cpus_allowed_list /proc/1/status";
  CHECK(in(a, "nproc") == "1\n");
  CHECK(in(b, "nproc") == "1\n");
  // VEs of consecutive CTIDs take turns: two VEs of one CPU each do not share it.
  CHECK(in(a, init_cpus) != in(b, init_cpus));

  // Live: every process already running follows, its init among them.
  ve_params two;
  two.cpu.cpus = 2;
  MUST(a.set(two, false));
  CHECK(in(a, "nproc") == "2\n");
  CHECK(in(a, init_cpus) == in(a, "grep Cpus_allowed_list /proc/self/status"));
  // A cpumask is the user's own choice, "all" too, and wins over the count.
  ve_params all;
  all.cpu.cpumask = "all";
  MUST(b.set(all, false));
  CHECK(in(b, "nproc") == std::to_string(host_cpus) + "\n");

  for (ve* v : {&a, &b}) {
    MUST(v->stop());
    MUST(v->destroy());
  }
}
