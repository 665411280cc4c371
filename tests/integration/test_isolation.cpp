// Root inside a VE is not root over the host: the classic escapes fail, and a normal
// workload still runs. CTIDs 1150-1199, shared with test_escape_process.cpp (1155-1156) and
// test_escape_fs.cpp (1157); free from 1161.

#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"

#include <ovz/namespaces.hpp>
#include <ovz/ve.hpp>

#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;

namespace {

std::string hostname_of_host() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// The host's mounts on the paths the escape probe mounts on and unmounts inside a VE.
std::vector<std::string> mount_points_of_host() {
  std::vector<std::string> found;
  std::ifstream info("/proc/1/mountinfo");
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    for (const char* probed : {"/tmp", "/proc", "/sys", "/proc/sys", "/proc/keys"})
      if (point == probed) found.push_back(line);
  }
  return found;
}

// Writes OpenVZ's CAPABILITY key into the VE's CTID.conf, as a person editing it would.
void set_capability(const ve& v, const char* value) {
  auto conf = MUST(v.config());
  MUST(conf.set("CAPABILITY", value));
  MUST(conf.save(v.conf_path()));
}

// Raises CAP_SYS_ADMIN in this thread's inheritable and ambient sets, as a service started with
// AmbientCapabilities=CAP_SYS_ADMIN has it; restores the sets at scope exit.
class inheritable_sys_admin {
 public:
  inheritable_sys_admin() : before_(cap_get_proc()) {
    cap_t raised = cap_dup(before_);
    cap_value_t admin = CAP_SYS_ADMIN;
    cap_set_flag(raised, CAP_INHERITABLE, 1, &admin, CAP_SET);
    REQUIRE(cap_set_proc(raised) == 0);
    cap_free(raised);
    REQUIRE(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) == 0);
  }
  ~inheritable_sys_admin() {
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    cap_set_proc(before_);
    cap_free(before_);
  }
  inheritable_sys_admin(const inheritable_sys_admin&) = delete;
  inheritable_sys_admin& operator=(const inheritable_sys_admin&) = delete;

 private:
  cap_t before_;
};

// The capability sets ("CapPrm", "CapInh"...) of a process, from /proc/PID/status.
std::uint64_t cap_set_of(pid_t pid, const std::string& set) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(set + ":", 0) == 0) return std::stoull(line.substr(set.size() + 1), nullptr, 16);
  FAIL("no " << set << " in /proc/" << pid << "/status");
  return 0;
}

}  // namespace

TEST_CASE("the classic escapes fail inside a VE and the host is unchanged", "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1150);
  MUST(v.create());
  test::install_escape_probe(root, v);
  const auto host_name = hostname_of_host();
  const auto host_mounts = mount_points_of_host();
  std::string sysrq_before;
  std::getline(std::ifstream("/proc/sys/kernel/sysrq"), sysrq_before);
  MUST(v.start());

  auto r = MUST(v.exec({"/escape_probe"}));
  INFO(r.err);
  // What its monitor mounts for it (a copy of its /proc, a read-only /sys, tmpfs) keeps the
  // host's knobs out of reach; binds, other filesystems and unmasking are refused.
  test::check_refused(
      r.out, {"init_module", "finit_module", "delete_module", "kexec_load", "mount_proc",
              "mount_sysfs", "mount_tmpfs", "mount_ext4", "mount_bind", "unmask_proc",
              "mknod_block", "sysrq_trigger", "settimeofday", "sethostname",
              "open_by_handle_at", "name_to_handle_at", "swapoff", "bpf_prog_load",
              "perf_event_open", "userfaultfd", "keyctl_user_keyring", "keyctl_i386", "iopl",
              "ioperm", "acct", "syslog_read", "sched_fifo", "remount_proc_sys_rw",
              "drop_caches", "core_pattern", "sys_kernel"});
  CHECK(r.out.find("mount_proc ok (mounted") != std::string::npos);
  CHECK(r.out.find("sethostname ok (the VE's own)") != std::string::npos);
  CHECK(r.exit_code == 0);
  CHECK(mount_points_of_host() == host_mounts);

  // /proc/sys is read-only, the host's kernel secrets are masked.
  CHECK(MUST(v.exec({"/bin/sh", "-c", "echo 0 > /proc/sys/kernel/sysrq"})).exit_code != 0);
  CHECK(MUST(v.exec({"/bin/sh", "-c", "test -s /proc/kcore || test -s /proc/keys"}))
            .exit_code != 0);
  // Nor its boot line, disks or kernel memory, which the host's /proc shows.
  std::string host_cmdline;
  std::getline(std::ifstream("/proc/cmdline"), host_cmdline);
  REQUIRE_FALSE(host_cmdline.empty());
  const auto shown = MUST(v.exec({"/bin/sh", "-c",
                                  "cat /proc/cmdline /proc/diskstats /proc/partitions; "
                                  "cat /proc/slabinfo 2>/dev/null; true"}));
  CHECK(shown.out.empty());
  std::string sysrq_after;
  std::getline(std::ifstream("/proc/sys/kernel/sysrq"), sysrq_after);
  CHECK(sysrq_after == sysrq_before);
  CHECK(hostname_of_host() == host_name);
  CHECK(MUST(v.exec({"hostname"})).out == "escaped\n");

  // A normal workload: a shell, a server and a client, over the VE's own loopback.
  auto web = MUST(v.exec({"/bin/sh", "-c",
                          "ifconfig lo 127.0.0.1 up && "
                          "mkdir -p /www && echo hello > /www/index.html && "
                          "httpd -p 127.0.0.1:8080 -h /www && sleep 0.3 && "
                          "wget -q -O - http://127.0.0.1:8080/index.html"}));
  INFO(web.err);
  CHECK(web.out == "hello\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a VE opens only its allowed device nodes, even ones it may create", "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1152);
  MUST(v.create());
  set_capability(v, "MKNOD:on");
  MUST(v.start());
  // With CAP_MKNOD, a twin of /dev/null can be made and used; the host's kernel log cannot
  // (v1's devices controller refuses the mknod, v2's BPF device program the mknod or open).
  CHECK(MUST(v.exec({"/bin/sh", "-c", "mknod /tmp/null c 1 3 && echo ok > /tmp/null"}))
            .exit_code == 0);
  auto r = MUST(v.exec({"/bin/sh", "-c",
                        "mknod /tmp/kmsg c 1 11 && echo '<7>ovz device test' > /tmp/kmsg"}));
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("Operation not permitted") != std::string::npos);
  CHECK(MUST(v.exec({"/bin/sh", "-c", "head -c 1 /dev/urandom && head -c 1 /dev/zero"}))
            .exit_code == 0);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("CAPABILITY in CTID.conf gives a capability back or takes one away", "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1151);
  MUST(v.create());
  set_capability(v, "SYS_ADMIN:on CHOWN:off");
  MUST(v.start());
  // CAP_SYS_ADMIN on: the VE may name itself (in its own UTS namespace only).
  CHECK(MUST(v.exec({"/bin/sh", "-c", "hostname renamed && hostname"})).out == "renamed\n");
  CHECK(hostname_of_host() != "renamed");
  // CAP_CHOWN off: even root cannot give a file away.
  CHECK(MUST(v.exec({"/bin/sh", "-c", "touch /f && chown 1 /f"})).exit_code != 0);
  MUST(v.stop({.fast = true}));

  set_capability(v, "NO_SUCH_CAP:on");
  auto bad = v.start();
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(errc::bad_config));
  CHECK(bad.error().message().find("NO_SUCH_CAP") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("reboot inside a VE restarts that VE only, and the host and other VEs run on",
          "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1153);
  auto other = root.open(1154);
  MUST(v.create());
  MUST(other.create());
  MUST(v.start());
  MUST(other.start());
  auto init = MUST(process::open(MUST(v.status()).init_pid));
  // busybox's reboot asks init to shut down; init's reboot(2) in a PID namespace ends the
  // namespace instead of the machine.
  (void)v.exec({"/bin/sh", "-c", "reboot"});
  CHECK(MUST(init.wait_exit(std::chrono::seconds(15))));
  CHECK(MUST(other.status()).state == ve_state::running);
  CHECK(MUST(other.exec({"/bin/true"})).exit_code == 0);
  // Its monitor starts it again.
  bool back = false;
  for (int i = 0; i < 200 && !back; ++i) {
    auto st = MUST(v.status());
    back = st.state == ve_state::running && st.init_pid != init.pid();
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(back);
  const auto rebooted = std::chrono::steady_clock::now();
  // As a machine's: its uptime starts again, the other VE's goes on.
  CHECK(test::uptime_of(v) < test::seconds_since(rebooted) + 1.5);
  CHECK(test::uptime_of(other) > test::uptime_of(v));
  MUST(v.stop({.fast = true}));
  MUST(other.stop({.fast = true}));
}

TEST_CASE("a VE's uptime is its own: it counts from the VE's start, the same for every "
          "command run in it",
          "[isolation]") {
  test::require_root();
  if (::access("/proc/self/ns/time", F_OK) != 0) {
    WARN("SKIPPED: this kernel has no time namespaces (Linux 5.6, CONFIG_TIME_NS)");
    return;
  }
  temp_root root;
  auto v = root.open(1160);
  MUST(v.create());
  const auto started = std::chrono::steady_clock::now();
  MUST(v.start());
  std::ifstream host_uptime("/proc/uptime");
  double host = 0;
  host_uptime >> host;
  const double first = test::uptime_of(v);
  INFO("host " << host << " s, VE " << first << " s");
  CHECK(first < test::seconds_since(started) + 1.5);
  CHECK(first < host);
  // Its init and a command in it read one clock, which runs.
  const auto both = MUST(v.exec({"/bin/sh", "-c",
                                 "for p in 1 self; do readlink /proc/$p/ns/time; done"}));
  std::istringstream lines(both.out);
  std::string init_ns, command_ns;
  lines >> init_ns >> command_ns;
  CHECK(init_ns.starts_with("time:["));
  CHECK(init_ns == command_ns);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(test::uptime_of(v) > first + 1);
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a user namespace made inside a VE gives nothing over the VE or the host",
          "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1158);
  MUST(v.create());
  test::install_escape_probe(root, v);
  MUST(v.start());
  auto r = MUST(v.exec({"/escape_probe", "userns"}));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  if (r.out.find("userns_unshare refused") != std::string::npos) {
    // Nothing to gain then; the host allows no user namespaces (user.max_user_namespaces).
    WARN("this kernel refused a user namespace inside the VE: only that was checked");
    CHECK(r.out.find("ESCAPED") == std::string::npos);
  } else {
    // Root of its own namespaces, it mounted over its own copy of /tmp…
    CHECK(r.out.find("userns_map done") != std::string::npos);
    CHECK(r.out.find("userns_mount_tmpfs done") != std::string::npos);
    // …and got nothing the VE's mounts, devices, masks and hostname do not allow.
    test::check_refused(r.out, {"userns_mknod_block", "userns_remount_sys_rw",
                                "userns_remount_proc_sys_rw", "userns_unmask_proc",
                                "userns_unmount_proc_sys",
                                "userns_core_pattern", "userns_sethostname",
                                "userns_fresh_proc", "userns_mount_contained"});
  }
  // The VE's init, seen from the host, has no tmpfs on /tmp.
  std::ifstream mounts("/proc/" + std::to_string(MUST(v.status()).init_pid) + "/mountinfo");
  for (std::string line; std::getline(mounts, line);)
    CHECK(line.find(" /tmp ") == std::string::npos);
  CHECK(MUST(v.exec({"hostname"})).out == "ct1158\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("capabilities the caller holds as inheritable or ambient do not come back in a VE",
          "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1159);
  MUST(v.create());
  test::install_escape_probe(root, v);
  {
    inheritable_sys_admin raised;
    MUST(v.start());
    auto r = MUST(v.exec({"/escape_probe"}));
    test::check_refused(r.out, {"mount_ext4", "mount_bind", "unmask_proc", "remount_proc_sys_rw"});
  }
  const std::uint64_t admin = std::uint64_t{1} << CAP_SYS_ADMIN;
  const pid_t init = MUST(v.status()).init_pid;
  for (const char* set : {"CapPrm", "CapEff", "CapInh", "CapAmb"}) {
    INFO(set);
    CHECK((cap_set_of(init, set) & admin) == 0);
  }
  MUST(v.stop({.fast = true}));
}
