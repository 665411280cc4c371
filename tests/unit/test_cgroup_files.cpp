// Kernel files that do not read as documented are reported, never thrown: the error names the
// file and quotes a short, printable excerpt of what it held.

#include <catch2/catch.hpp>

#include "support/fake_cgroupfs.hpp"

#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_manager.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

using namespace ovz;

namespace {

template <class T>
void expect_malformed(const result<T>& r, const std::string& file, const std::string& quoted) {
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().sys_errno() == EPROTO);
  CHECK(r.error().message().find(file) != std::string::npos);
  CHECK(r.error().message().find(quoted) != std::string::npos);
  CHECK(r.error().message().size() < file.size() + 150);
}

}  // namespace

TEST_CASE("cgroup.procs is read as PIDs and anything else is an error, not an exception",
          "[cgroup]") {
  test::fake_cgroupfs d;
  const auto procs = (d.path() / "cgroup.procs").string();
  std::ofstream(procs) << "12\n345\n";
  CHECK(detail::read_procs(d.path().string()).value() == std::vector<pid_t>{12, 345});
  for (const auto& [text, quoted] : std::vector<std::pair<std::string, std::string>>{
           {"12\nabc\n", "\"abc\""},
           {"99999999999999999999\n", "\"99999999999999999999\""},
           {"-5\n", "\"-5\""},
           {"7 \n", "\"7 \""},
           {std::string(5000, '9') + "\n", "\"9999999999"},
           {"1\x1b[2J\n", "\"1\\x1b[2J\""}}) {
    std::ofstream(procs, std::ios::trunc) << text;
    expect_malformed(detail::read_procs(d.path().string()), procs, quoted);
  }
  CHECK(detail::read_procs((d.path() / "gone").string()).value().empty());
}

TEST_CASE("the processes of a cgroup include those of its sub-cgroups, however deep",
          "[cgroup]") {
  test::fake_cgroupfs d;
  d.make("", {{"cgroup.procs", "1\n"}});
  d.make("init.scope", {{"cgroup.procs", "2\n"}});
  d.make("system.slice", {{"cgroup.procs", ""}});
  d.make("system.slice/cron.service", {{"cgroup.procs", "3\n4\n"}});
  auto pids = detail::read_procs(d.path().string()).value();
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<pid_t>{1, 2, 3, 4});
}

TEST_CASE("number files that hold something else are errors naming the file", "[cgroup]") {
  test::fake_cgroupfs d;
  const auto dir = d.open("");
  const auto file = (d.path() / "pids.max").string();
  std::ofstream(file) << "max\n";
  CHECK(detail::read_number(dir, "pids.max").value() == UINT64_MAX);
  std::ofstream(file, std::ios::trunc) << "lots\n";
  expect_malformed(detail::read_number(dir, "pids.max"), file, "\"lots");
  std::ofstream(file, std::ios::trunc) << "max 3\nfail x\n";
  CHECK(detail::read_keyed(dir, "pids.max", "max").value() == 3u);
  expect_malformed(detail::read_keyed(dir, "pids.max", "fail"), file, "\"fail x\"");
}

TEST_CASE("a process's cgroup is found in /proc/PID/cgroup only at or below the VE's",
          "[cgroup]") {
  const std::string v2 = "0::/ovz/101/init.scope\n";
  CHECK(detail::member_of(v2, "", "ovz/101") == "ovz/101/init.scope");
  CHECK(detail::member_of("0::/ovz/101\n", "", "ovz/101") == "ovz/101");
  CHECK(detail::member_of("0::/ovz/1010/x\n", "", "ovz/101") == "ovz/101");  // another VE
  CHECK(detail::member_of("0::/\n", "", "ovz/101") == "ovz/101");
  const std::string v1 = "12:pids:/ovz/101\n4:cpu,cpuacct:/ovz/101/system.slice/a:b\n"
                         "1:name=systemd:/ovz/101/init.scope\n0::/\n";
  CHECK(detail::member_of(v1, "cpuacct", "ovz/101") == "ovz/101/system.slice/a:b");
  CHECK(detail::member_of(v1, "pids", "ovz/101") == "ovz/101");
  CHECK(detail::member_of(v1, "memory", "ovz/101") == "ovz/101");
  CHECK(detail::member_of(v1, "", "ovz/101") == "ovz/101");
  CHECK(detail::member_of("garbage\n::\n", "", "ovz/101") == "ovz/101");
}

TEST_CASE("a cgroup v2 is frozen once cgroup.events says so, not while the freeze is under way",
          "[cgroup]") {
  test::fake_cgroupfs d;
  auto cg = detail::make_cgroupfs_v2(d.path().string());
  d.make("ovz/101", {{"cgroup.freeze", "1\n"}, {"cgroup.events", "populated 1\nfrozen 0\n"}});
  CHECK_FALSE(cg->frozen("ovz/101").value());
  d.make("ovz/101", {{"cgroup.events", "populated 1\nfrozen 1\n"}});
  CHECK(cg->frozen("ovz/101").value());
  // Before Linux 5.2: no freezer, no "frozen" line.
  d.make("ovz/101", {{"cgroup.events", "populated 1\n"}});
  CHECK_FALSE(cg->frozen("ovz/101").value());
  CHECK_FALSE(cg->frozen("ovz/102").value());
}
