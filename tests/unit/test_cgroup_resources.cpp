// The cgroup resource writers against a fake cgroupfs: which file gets which value for each
// limit, that a limit not asked for or a controller not there is not written, and which files
// the counters come from, on v1 and v2. No root needed.

#include <catch2/catch.hpp>

#include "support/fake_cgroupfs.hpp"
#include "support/temp_root.hpp"

#include "kernel/cgroup_resources.hpp"

using namespace ovz;
using ovz::test::fake_cgroupfs;

namespace {

detail::ve_cgroup v2_cgroup(const fake_cgroupfs& fs, const std::string& rel) {
  detail::ve_cgroup cg;
  cg.dirs.push_back({{}, fs.open(rel)});
  return cg;
}

}  // namespace

TEST_CASE("cgroup v2 limits go to pids.max, memory.max, memory.swap.max, cpu.weight, cpu.max "
          "and cpuset.cpus", "[cgroup][resources]") {
  fake_cgroupfs fs;
  fs.make("", {{"cpuset.cpus.effective", "0-3\n"}});
  fs.make("ve", {{"pids.max", ""}, {"memory.max", ""}, {"memory.swap.max", ""},
                 {"memory.min", ""}, {"memory.low", ""}, {"cpu.weight", ""}, {"cpu.max", ""},
                 {"cpuset.cpus", ""}});
  auto res = detail::make_cgroup_v2_resources();
  detail::cgroup_limits l;
  l.pids_max = 240;
  l.memory_max = 512u << 20;
  l.swap_max = std::nullopt;
  l.memory_min = 1 << 20;
  l.memory_low = 2 << 20;
  l.cpu_shares = 22000;
  l.cpu_quota_us = 50000;
  MUST(res->apply(v2_cgroup(fs, "ve"), l));
  CHECK(fs.read("ve/pids.max") == "240");
  CHECK(fs.read("ve/memory.max") == "536870912");
  CHECK(fs.read("ve/memory.swap.max") == "max");
  CHECK(fs.read("ve/memory.min") == "1048576");
  CHECK(fs.read("ve/memory.low") == "2097152");
  CHECK(fs.read("ve/cpu.weight") == "840");  // 1 + 219958002 / 262142 = 1 + 839
  CHECK(fs.read("ve/cpu.max") == "50000 100000");
  // The parent's CPUs written out: v2's empty "all" is refused once processes run.
  CHECK(fs.read("ve/cpuset.cpus") == "0-3\n");

  // A share of them (CPUS without CPUMASK): one, from position 5 of four, wrapping round.
  fs.make("share", {{"cpuset.cpus", ""}});
  detail::cgroup_limits share;
  share.fields = detail::field_cpuset;
  share.cpuset_count = 1;
  share.cpuset_start = 5;
  MUST(res->apply(v2_cgroup(fs, "share"), share));
  CHECK(fs.read("share/cpuset.cpus") == "1");
}

TEST_CASE("cgroup v2 writes only the limits asked for, and only where their controller is",
          "[cgroup][resources]") {
  fake_cgroupfs fs;
  fs.make("ve", {{"pids.max", ""}, {"cpu.max", ""}});  // no memory controller
  auto res = detail::make_cgroup_v2_resources();
  detail::cgroup_limits l;
  l.fields = detail::field_memory | detail::field_cpu_quota;
  l.pids_max = 10;
  l.memory_max = 1 << 30;
  MUST(res->apply(v2_cgroup(fs, "ve"), l));
  CHECK(fs.read("ve/pids.max").empty());
  CHECK(fs.read("ve/cpu.max") == "max 100000");

  // Swap asked for where swap is not accounted: refused, with the missing file named.
  fs.make("swapless", {{"memory.max", ""}});
  l.swap_max = 1 << 20;
  auto refused = res->apply(v2_cgroup(fs, "swapless"), l);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(errc::unsupported));
  CHECK(refused.error().message().find((fs.path() / "swapless/memory.swap.max").string()) !=
        std::string::npos);
}

TEST_CASE("cgroup v2 counters come from the controllers' files, unmeasured where one is "
          "missing", "[cgroup][resources]") {
  fake_cgroupfs fs;
  fs.make("ve", {{"pids.current", "7\n"}, {"pids.peak", "9\n"}, {"pids.events", "max 2\n"},
                 {"memory.current", "4096\n"}, {"memory.events", "low 0\nmax 3\noom 1\n"},
                 {"memory.stat", "anon 1\nkernel 512\nshmem 128\n"},
                 {"cpu.stat", "usage_usec 1234\nuser_usec 1000\n"}});
  auto u = MUST(detail::make_cgroup_v2_resources()->usage(v2_cgroup(fs, "ve"), nullptr));
  CHECK(u.pids.held == 7);
  CHECK(u.pids.peak == 9);
  CHECK(u.pids.failcnt == 2);
  CHECK(u.pids.enforced);
  CHECK(u.memory.held == 4096);
  CHECK(u.memory.peak == 4096);  // no memory.peak (before 5.19): what is held
  CHECK(u.memory.failcnt == 3);
  CHECK_FALSE(u.swap.measured);
  CHECK(u.kmem.held == 512);
  CHECK(u.shmem.held == 128);
  CHECK(MUST(detail::make_cgroup_v2_resources()->cpu_time_us(v2_cgroup(fs, "ve"))) == 1234);

  // The page counters read in the kernel replace memory.current and memory.peak; the
  // refusals stay memory.events' (the page counter's failcnt counts every retry too), and
  // swap stays unmeasured where it is not accounted.
  const detail::memcg_counters known{.memory = 8192, .memory_peak = 16384,
                                     .memory_failcnt = 99, .swap = 77, .swap_failcnt = 5};
  u = MUST(detail::make_cgroup_v2_resources()->usage(v2_cgroup(fs, "ve"), &known));
  CHECK(u.memory.held == 8192);
  CHECK(u.memory.peak == 16384);
  CHECK(u.memory.failcnt == 3);
  CHECK_FALSE(u.swap.measured);
  CHECK(u.pids.held == 7);
}

TEST_CASE("cgroup v1 limits go to each controller's hierarchy, RAM and swap as memsw's total",
          "[cgroup][resources]") {
  fake_cgroupfs fs;
  fs.make("pids/ve", {{"pids.max", ""}});
  fs.make("memory/ve", {{"memory.limit_in_bytes", ""}, {"memory.memsw.limit_in_bytes", ""},
                        {"memory.kmem.limit_in_bytes", ""}, {"memory.soft_limit_in_bytes", ""}});
  fs.make("cpu,cpuacct/ve", {{"cpu.shares", ""}, {"cpu.cfs_period_us", ""},
                             {"cpu.cfs_quota_us", ""}});
  fs.make("cpuset", {{"cpuset.cpus", "0-3\n"}});
  fs.make("cpuset/ve", {{"cpuset.cpus", ""}});
  detail::ve_cgroup cg;
  cg.dirs.push_back({{"pids"}, fs.open("pids/ve")});
  cg.dirs.push_back({{"memory"}, fs.open("memory/ve")});
  cg.dirs.push_back({{"cpu", "cpuacct"}, fs.open("cpu,cpuacct/ve")});
  cg.dirs.push_back({{"cpuset"}, fs.open("cpuset/ve")});
  detail::cgroup_limits l;
  l.pids_max = std::nullopt;
  l.memory_max = 1 << 20;
  l.swap_max = 1 << 20;
  l.memory_low = 4096;
  l.cpu_shares = 512;
  MUST(detail::make_cgroup_v1_resources()->apply(cg, l));
  CHECK(fs.read("pids/ve/pids.max") == "max");
  CHECK(fs.read("memory/ve/memory.limit_in_bytes") == "1048576");
  CHECK(fs.read("memory/ve/memory.memsw.limit_in_bytes") == "2097152");
  CHECK(fs.read("memory/ve/memory.kmem.limit_in_bytes") == "-1");
  CHECK(fs.read("memory/ve/memory.soft_limit_in_bytes") == "4096");
  CHECK(fs.read("cpu,cpuacct/ve/cpu.shares") == "512");
  CHECK(fs.read("cpu,cpuacct/ve/cpu.cfs_period_us") == "100000");
  CHECK(fs.read("cpu,cpuacct/ve/cpu.cfs_quota_us") == "-1");
  CHECK(fs.read("cpuset/ve/cpuset.cpus") == "0-3\n");  // the parent's, as no CPUs are named

  fs.make("cpuset/share", {{"cpuset.cpus", ""}});
  detail::ve_cgroup shared;
  shared.dirs.push_back({{"cpuset"}, fs.open("cpuset/share")});
  detail::cgroup_limits share;
  share.fields = detail::field_cpuset;
  share.cpuset_count = 2;
  share.cpuset_start = 3;
  MUST(detail::make_cgroup_v1_resources()->apply(shared, share));
  CHECK(fs.read("cpuset/share/cpuset.cpus") == "0,3");
}

TEST_CASE("cgroup v1 swap without memsw files is refused, and devices are denied, then allowed "
          "one rule per line", "[cgroup][resources]") {
  fake_cgroupfs fs;
  fs.make("memory/ve", {{"memory.limit_in_bytes", ""}});
  fs.make("devices/ve", {{"devices.deny", ""}, {"devices.allow", ""}});
  detail::ve_cgroup cg;
  cg.dirs.push_back({{"memory"}, fs.open("memory/ve")});
  cg.dirs.push_back({{"devices"}, fs.open("devices/ve")});
  auto res = detail::make_cgroup_v1_resources();
  detail::cgroup_limits l;
  l.fields = detail::field_memory;
  l.swap_max = 1 << 20;
  auto refused = res->apply(cg, l);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(errc::unsupported));
  CHECK(refused.error().message().find("swapaccount=1") != std::string::npos);
  CHECK(fs.read("memory/ve/memory.limit_in_bytes").empty());  // nothing written

  MUST(res->allow_devices(cg, {{'c', 1, 3, detail::device_rule::read | detail::device_rule::write}}));
  CHECK(fs.read("devices/ve/devices.deny") == "a");
  CHECK(fs.read("devices/ve/devices.allow") == "c 1:3 rw");
  CHECK(res->event_files().empty());
}

TEST_CASE("cgroup v1 counters: swap is memsw less RAM, CPU time from nanoseconds",
          "[cgroup][resources]") {
  fake_cgroupfs fs;
  fs.make("memory/ve", {{"memory.usage_in_bytes", "1000\n"}, {"memory.max_usage_in_bytes", "1500\n"},
                        {"memory.failcnt", "4\n"}, {"memory.memsw.usage_in_bytes", "1600\n"},
                        {"memory.memsw.failcnt", "1\n"}, {"memory.stat", "cache 0\nshmem 64\n"}});
  fs.make("cpuacct/ve", {{"cpuacct.usage", "5000000\n"}});
  detail::ve_cgroup cg;
  cg.dirs.push_back({{"memory"}, fs.open("memory/ve")});
  cg.dirs.push_back({{"cpuacct"}, fs.open("cpuacct/ve")});
  auto u = MUST(detail::make_cgroup_v1_resources()->usage(cg, nullptr));
  CHECK(u.memory.held == 1000);
  CHECK(u.memory.peak == 1500);
  CHECK(u.memory.failcnt == 4);
  CHECK(u.swap.held == 600);
  CHECK(u.swap.failcnt == 1);
  CHECK_FALSE(u.kmem.measured);
  CHECK(u.shmem.held == 64);
  CHECK(MUST(detail::make_cgroup_v1_resources()->cpu_time_us(cg)) == 5000);
  CHECK_FALSE(u.pids.measured);

  // v1's files show the page counters themselves: the ones read in the kernel replace them
  // all; kmem stays unmeasured where its files are missing.
  const detail::memcg_counters known{.memory = 2000, .memory_peak = 2500, .memory_failcnt = 7,
                                     .swap = 300, .swap_failcnt = 2, .kmem = 0};
  u = MUST(detail::make_cgroup_v1_resources()->usage(cg, &known));
  CHECK(u.memory.held == 2000);
  CHECK(u.memory.peak == 2500);
  CHECK(u.memory.failcnt == 7);
  CHECK(u.swap.held == 300);
  CHECK(u.swap.failcnt == 2);
  CHECK_FALSE(u.kmem.measured);
  CHECK(u.shmem.held == 64);
}

TEST_CASE("cgroup v2 reports the limits it holds, none where a controller is missing",
          "[cgroup][resources]") {
  fake_cgroupfs fs;
  fs.make("ve", {{"pids.max", "max\n"}, {"memory.max", "268435456\n"},
                 {"memory.swap.max", "max\n"}, {"memory.min", "0\n"}, {"memory.low", "4096\n"}});
  auto res = detail::make_cgroup_v2_resources();
  auto l = MUST(res->limits(v2_cgroup(fs, "ve")));
  CHECK(l.fields == (detail::field_pids | detail::field_memory | detail::field_guarantee));
  CHECK_FALSE(l.pids_max);
  CHECK(l.memory_max == 268435456);
  CHECK_FALSE(l.swap_max);
  CHECK_FALSE(l.kmem_max);  // v2 has no kernel memory limit
  CHECK(l.memory_min == 0);
  CHECK(l.memory_low == 4096);

  fs.make("pids-only", {{"pids.max", "64\n"}});
  l = MUST(res->limits(v2_cgroup(fs, "pids-only")));
  CHECK(l.fields == detail::field_pids);
  CHECK(l.pids_max == 64);
}

TEST_CASE("cgroup v1 reports its limits: swap is memsw less RAM, -1 reads back as none",
          "[cgroup][resources]") {
  fake_cgroupfs fs;
  // What the kernel shows after "-1" was written: LONG_MAX rounded down to a page.
  const std::string none = "9223372036854771712\n";
  fs.make("pids/ve", {{"pids.max", "100\n"}});
  fs.make("memory/ve", {{"memory.limit_in_bytes", "268435456\n"},
                        {"memory.memsw.limit_in_bytes", "335544320\n"},
                        {"memory.kmem.limit_in_bytes", none},
                        {"memory.soft_limit_in_bytes", "4096\n"}});
  detail::ve_cgroup cg;
  cg.dirs.push_back({{"pids"}, fs.open("pids/ve")});
  cg.dirs.push_back({{"memory"}, fs.open("memory/ve")});
  auto res = detail::make_cgroup_v1_resources();
  auto l = MUST(res->limits(cg));
  CHECK(l.fields == (detail::field_pids | detail::field_memory));  // one soft limit for both
  CHECK(l.pids_max == 100);
  CHECK(l.memory_max == 268435456);
  CHECK(l.swap_max == 67108864);
  CHECK_FALSE(l.kmem_max);

  // memsw unlimited (apply writes it only with both limits): no swap limit.
  fs.make("memory/free", {{"memory.limit_in_bytes", none}, {"memory.memsw.limit_in_bytes", none}});
  detail::ve_cgroup free;
  free.dirs.push_back({{"memory"}, fs.open("memory/free")});
  l = MUST(res->limits(free));
  CHECK(l.fields == detail::field_memory);
  CHECK_FALSE(l.memory_max);
  CHECK_FALSE(l.swap_max);
}
