// spawn's plan as its helper program receives it: everything the children read arrives as
// the caller laid it out, and a plan cut short is refused whole.

#include <catch2/catch.hpp>

#include <sched.h>

#include "kernel/spawn_wire.hpp"

#include <sys/mount.h>

#include <string>

using namespace ovz;
using detail::spawning::plan;

namespace {

std::vector<std::string> strings(const std::vector<const char*>& v) {
  std::vector<std::string> out;
  for (const char* s : v) out.emplace_back(s ? s : "(null)");
  return out;
}

}  // namespace

TEST_CASE("the helper reads back the plan the caller laid out", "[spawn]") {
  const std::vector<int> caps = {21, 16};
  const std::vector<sock_filter> filter = {{0x20, 0, 0, 4}, {0x06, 0, 0, 0x7fff0000}};
  plan p;
  p.exec_paths = {"/usr/bin/env", "/bin/env"};
  p.argv = {"env", "-i", nullptr};
  p.envp = {"PATH=/bin", "TERM=xterm", nullptr};
  p.steps.push_back({fs_step::kind::mount, true, "proc", "/ve/proc", "proc", MS_NOSUID, nullptr,
                     0, 0, 0, 0, -1, true});
  p.steps.push_back({fs_step::kind::attach, false, nullptr, "/ve/dev", nullptr, 0, "mode=755",
                     0755, 0x0501, 10, 11, 9, false});
  p.hostname = "ct101";
  p.hostname_len = 5;
  p.new_root = "/ve";
  p.cwd = "/root";
  p.clone_flags = 0x7e020000;
  p.userns = p.new_mnt = true;
  p.stdio = {0, 7, 7};
  p.monitor_path = "/usr/libexec/ovz/ovz-monitor";
  p.monitor_argv = {"ovz-monitor", "--ctid=101", p.monitor_init_arg, nullptr};
  p.monitor_envp = {"A=1", nullptr};
  p.monitor_fds = {11, 12};
  p.sync_r = 3;
  p.report_w = 4;
  p.target_pidfd = -1;
  p.setns_flags = 0x20000;
  p.time_ns = true;
  p.time_offsets = "monotonic -5 0\n";
  p.time_offsets_len = 15;
  p.cgroup_fd = 13;
  p.keep = {-1, 3, 4, 7};
  p.drop_caps = &caps;
  p.seccomp.len = static_cast<unsigned short>(filter.size());
  p.seccomp.filter = const_cast<sock_filter*>(filter.data());
  p.no_new_privs = true;
  p.start_gate = 23;
  p.set_user = true;
  p.uid = 1000;
  p.gid = 4294967294u;
  p.groups = {10, 20};
  p.pass_fds = {40, 41};
  p.set_caps = true;
  p.cap_effective = 1u << 21;
  p.cap_permitted = (1ull << 40) | (1u << 21);
  p.cap_inheritable = 1u << 5;
  p.cap_ambient = 1u << 5;
  p.join_fds = {31, 32};
  p.join_flags = {CLONE_NEWNET, CLONE_NEWPID};
  p.pause_before_pivot = true;

  const std::string wire = detail::encode_plan(p, true);
  detail::received_plan r;
  REQUIRE(detail::decode_plan(wire, r));
  const plan& q = r.p;
  CHECK(r.detach);
  CHECK(strings(q.exec_paths) == strings(p.exec_paths));
  CHECK(strings(q.argv) == strings(p.argv));
  CHECK(q.argv.back() == nullptr);
  CHECK(strings(q.envp) == strings(p.envp));
  REQUIRE(q.steps.size() == 2);
  CHECK(q.steps[0].optional);
  CHECK(q.steps[0].in_root);
  CHECK_FALSE(q.steps[1].in_root);
  CHECK(std::string(q.steps[0].fstype) == "proc");
  CHECK(q.steps[0].data == nullptr);
  CHECK(q.steps[0].flags == MS_NOSUID);
  CHECK(q.steps[1].what == fs_step::kind::attach);
  CHECK(q.steps[1].source == nullptr);
  CHECK(std::string(q.steps[1].data) == "mode=755");
  CHECK(q.steps[1].mode == 0755);
  CHECK(q.steps[1].dev == 0x0501);
  CHECK(q.steps[1].uid == 10);
  CHECK(q.steps[1].gid == 11);
  CHECK(q.steps[1].fd == 9);
  CHECK(std::string(q.hostname, q.hostname_len) == "ct101");
  CHECK(std::string(q.new_root) == "/ve");
  CHECK(std::string(q.cwd) == "/root");
  CHECK(q.clone_flags == p.clone_flags);
  CHECK(q.userns);
  CHECK(q.new_mnt);
  CHECK_FALSE(q.cgroup_ns);
  CHECK(q.stdio == p.stdio);
  CHECK(std::string(q.monitor_path) == p.monitor_path);
  // The helper writes "--init=PID" into its own plan's buffer, which its argv points to.
  REQUIRE(q.monitor_argv.size() == 4);
  CHECK(std::string(q.monitor_argv[1]) == "--ctid=101");
  CHECK(q.monitor_argv[2] == q.monitor_init_arg);
  CHECK(strings(q.monitor_envp) == strings(p.monitor_envp));
  CHECK(q.monitor_fds == p.monitor_fds);
  CHECK(q.sync_r == 3);
  CHECK(q.report_w == 4);
  CHECK(q.hold_r == -1);
  CHECK(q.target_pidfd == -1);
  CHECK(q.setns_flags == 0x20000);
  CHECK(q.time_ns);
  CHECK(std::string(q.time_offsets, q.time_offsets_len) == "monotonic -5 0\n");
  CHECK(q.cgroup_fd == 13);
  CHECK(q.keep == p.keep);
  CHECK(*q.drop_caps == caps);
  REQUIRE(q.seccomp.len == 2);
  CHECK(q.seccomp.filter[1].k == 0x7fff0000u);
  CHECK(q.no_new_privs);
  CHECK(q.start_gate == 23);
  CHECK((q.set_user && q.uid == 1000 && q.gid == 4294967294u));
  CHECK(q.groups == std::vector<int>{10, 20});
  CHECK(q.pass_fds == std::vector<int>{40, 41});
  CHECK((q.set_caps && q.cap_effective == 1u << 21 && q.cap_permitted == ((1ull << 40) | (1u << 21))));
  CHECK((q.cap_inheritable == 1u << 5 && q.cap_ambient == 1u << 5));
  CHECK(q.join_fds == std::vector<int>{31, 32});
  CHECK(q.join_flags == std::vector<int>{CLONE_NEWNET, CLONE_NEWPID});
  CHECK(q.pause_before_pivot);

  for (std::size_t cut : {std::size_t{0}, std::size_t{7}, wire.size() / 2, wire.size() - 1}) {
    detail::received_plan partial;
    CHECK_FALSE(detail::decode_plan(std::string_view(wire).substr(0, cut), partial));
  }
  detail::received_plan longer;
  CHECK_FALSE(detail::decode_plan(wire + "x", longer));
}
