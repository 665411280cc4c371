// A VE through its life on the real kernel: create, start, what it sees inside, stop,
// destroy — and that nothing of it is left on the host afterwards. CTIDs 1000-1049.

#include "support/enter_script.hpp"
#include "support/temp_root.hpp"

#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include "model/layout.hpp"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <fstream>

using namespace ovz;
using ovz::test::temp_root;

namespace {

std::string sh(const ve& v, const std::string& script) {
  auto r = MUST(v.exec({"/bin/sh", "-c", script}));
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

int sh_code(const ve& v, const std::string& script) {
  return MUST(v.exec({"/bin/sh", "-c", script})).exit_code;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("a VE goes through create, start, stop and destroy and leaves nothing", "[ve]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1000);
  CHECK(MUST(v.status()).state == ve_state::absent);

  MUST(v.create({.hostname = "web1.example.com"}));
  auto st = MUST(v.status());
  CHECK(st.state == ve_state::stopped);
  CHECK_FALSE(st.mounted);
  CHECK(st.hostname == "web1.example.com");
  CHECK(st.ostemplate == "busybox");
  auto conf = MUST(v.config());
  CHECK(conf.get("OSTEMPLATE") == "busybox");
  CHECK(conf.get("HOSTNAME") == "web1.example.com");

  MUST(v.start());
  st = MUST(v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.mounted);
  REQUIRE(st.init_pid > 0);
  CHECK(st.nproc >= 1);
  const pid_t init = st.init_pid;

  MUST(v.stop());  // the polite way: SIGTERM to busybox init, which shuts down by itself
  st = MUST(v.status());
  CHECK(st.state == ve_state::stopped);
  CHECK_FALSE(test::pid_alive(init));
  CHECK(test::leftovers(root).empty());

  MUST(v.destroy());
  CHECK(MUST(v.status()).state == ve_state::absent);
  auto l = detail::layout_of(root.path(), v.id());
  CHECK_FALSE(std::filesystem::exists(l.private_dir));
  CHECK_FALSE(std::filesystem::exists(l.conf));
  CHECK(test::leftovers(root).empty());
  CHECK(test::cgroup_parents(root).empty());
}

TEST_CASE("inside, init is PID 1 and only the VE's own processes, mounts and hostname show",
          "[ve]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1001);
  MUST(v.create({.hostname = "inside"}));
  MUST(v.start());

  CHECK(trimmed(sh(v, "cat /proc/1/comm")) == "init");
  CHECK(trimmed(sh(v, "hostname")) == "inside");
  char host_name[256] = {};
  ::gethostname(host_name, sizeof host_name - 1);
  CHECK(std::string(host_name) != "inside");

  // Only a handful of PIDs, all small: none of the host's hundreds of processes.
  auto pids = sh(v, "for p in /proc/[0-9]*; do echo ${p#/proc/}; done");
  int count = 0;
  for (std::istringstream in(pids); in >> pids; ++count) CHECK(std::stoi(pids) < 50);
  CHECK(count >= 2);
  CHECK(count < 10);
  CHECK(sh_code(v, "test -e /proc/" + std::to_string(::getpid())) != 0);

  // The mount table is the VE's own: its root and its /proc, /sys, /dev — no host paths.
  auto mounts = sh(v, "cat /proc/mounts");
  CHECK(mounts.find(" / overlay ") != std::string::npos);
  CHECK(mounts.find(" /proc proc ") != std::string::npos);
  CHECK(mounts.find(" /sys sysfs ro,") != std::string::npos);
  CHECK(mounts.find(" /dev/pts devpts ") != std::string::npos);
  // Its own cgroups, rooted at the VE's cgroup (test_cgroup_view.cpp), not the host's tree.
  CHECK(mounts.find(" /sys/fs/cgroup ") != std::string::npos);
  CHECK(mounts.find(root.path().string() + " ") == std::string::npos);
  CHECK(sh_code(v, "echo x > /sys/kernel/ovz-probe") != 0);  // /sys is read-only

  // A minimal /dev that works.
  CHECK(sh(v, "head -c 4 /dev/zero | od -An -tx1") == " 00 00 00 00\n");
  CHECK(sh_code(v, "echo > /dev/null && test -c /dev/urandom && test -c /dev/tty && "
                   "test -e /dev/ptmx && test -d /dev/shm") == 0);
  CHECK(sh_code(v, "test -e /dev/sda || test -e /dev/vda || test -e /dev/mem") != 0);

  MUST(v.stop({.fast = true}));
}

TEST_CASE("a VE has its own IPC namespace", "[ve]") {
  test::require_root();
  test::running_ve running(1002);
  auto& v = running.v;
  const key_t key = 0x0ef1c0de;
  int shm = ::shmget(key, 4096, IPC_CREAT | 0600);
  REQUIRE(shm >= 0);
  auto inside = sh(v, "cat /proc/sysvipc/shm");
  ::shmctl(shm, IPC_RMID, nullptr);
  CHECK(inside.find(std::to_string(key)) == std::string::npos);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("exec returns the command's exit code and output", "[ve]") {
  test::require_root();
  test::running_ve running(1003);
  auto& v = running.v;
  auto r = MUST(v.exec({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}));
  CHECK(r.exit_code == 7);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(MUST(v.exec({"true"})).exit_code == 0);  // found through PATH
  CHECK(MUST(v.exec({"/bin/sh", "-c", "kill -9 $$"})).exit_code == 128 + 9);
  auto missing = v.exec({"/no/such/program"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().sys_errno() == ENOENT);
  CHECK(missing.error().message().find("/no/such/program") != std::string::npos);
  // exec'd processes are in the VE: they see its PID 1 and count in its nproc.
  CHECK(MUST(v.exec({"/bin/sh", "-c", "echo $PPID"})).out == "0\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("two VEs see neither each other's processes nor each other's files", "[ve]") {
  test::require_root();
  temp_root root;
  auto a = root.open(1004);
  auto b = root.open(1005);
  MUST(a.create());
  MUST(b.create());
  MUST(a.start());
  MUST(b.start());

  sh(a, "sleep 1000 >/dev/null 2>&1 </dev/null & echo written-in-a > /root/a.txt");
  CHECK(sh(a, "ps").find("sleep 1000") != std::string::npos);
  CHECK(sh(b, "ps").find("sleep 1000") == std::string::npos);
  CHECK(sh(a, "cat /root/a.txt") == "written-in-a\n");
  CHECK(sh_code(b, "test -e /root/a.txt") != 0);

  auto tmpl = MUST(template_store(root.path()).find("busybox"));
  CHECK_FALSE(std::filesystem::exists(tmpl.path / "root/a.txt"));
  auto la = detail::layout_of(root.path(), a.id());
  CHECK(std::filesystem::exists(la.upper / "root/a.txt"));  // the VE stores only its changes

  const int nproc_b = MUST(b.status()).nproc;
  CHECK(MUST(a.status()).nproc > nproc_b);
  MUST(a.stop({.fast = true}));
  CHECK(MUST(b.status()).state == ve_state::running);  // stopping one VE leaves the other be
  MUST(b.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("stop kills every process of the VE, also ones that ignore SIGTERM", "[ve]") {
  test::require_root();
  test::running_ve running(1006);
  auto& v = running.v;
  sh(v, "trap '' TERM; (trap '' TERM; while :; do sleep 1; done) >/dev/null 2>&1 </dev/null &");
  const int before = MUST(v.status()).nproc;
  CHECK(before >= 2);  // init and the subshell that ignores SIGTERM
  MUST(v.stop({.timeout = std::chrono::milliseconds(300)}));
  auto st = MUST(v.status());
  CHECK(st.state == ve_state::stopped);
  CHECK(st.nproc == 0);
  CHECK(test::leftovers(running.root).empty());
}

TEST_CASE("restart gives the VE a new init and keeps its files", "[ve]") {
  test::require_root();
  test::running_ve running(1007);
  auto& v = running.v;
  const pid_t first = MUST(v.status()).init_pid;
  sh(v, "echo kept > /root/kept");
  MUST(v.restart({.fast = true}));
  auto st = MUST(v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.init_pid != first);
  CHECK(sh(v, "cat /root/kept") == "kept\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("run starts a VE with a given init and returns its exit code", "[ve]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1008);
  MUST(v.create());
  CHECK(MUST(v.run({"/bin/sh", "-c", "test $$ = 1 && exit 42"})) == 42);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("the hostname changes live and is saved on request", "[ve]") {
  test::require_root();
  test::running_ve running(1009);
  auto& v = running.v;
  MUST(v.set_hostname("live-only", false));
  CHECK(trimmed(sh(v, "hostname")) == "live-only");
  CHECK(MUST(v.config()).get("HOSTNAME") == "ct1009");
  MUST(v.set_hostname("saved", true));
  CHECK(MUST(v.config()).get("HOSTNAME") == "saved");
  MUST(v.restart({.fast = true}));
  CHECK(trimmed(sh(v, "hostname")) == "saved");
  MUST(v.stop({.fast = true}));
  auto bad = v.set_hostname("bad name!", true);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(errc::invalid_argument));
  CHECK(MUST(v.config()).get("HOSTNAME") == "saved");
}

TEST_CASE("list shows every VE of the state root with its state", "[ve]") {
  test::require_root();
  temp_root root;
  auto a = root.open(1010);
  auto b = root.open(1011);
  MUST(a.create({.hostname = "alpha"}));
  MUST(b.create({.hostname = "beta"}));
  MUST(b.start());
  auto all = MUST(list_ves(root.path()));
  REQUIRE(all.size() == 2);
  CHECK(all[0].id.value() == 1010);
  CHECK(all[0].state == ve_state::stopped);
  CHECK(all[0].hostname == "alpha");
  CHECK(all[1].state == ve_state::running);
  CHECK(all[1].nproc >= 1);
  MUST(b.stop({.fast = true}));
}

TEST_CASE("enter gives a shell on a terminal of the VE's own devpts", "[ve]") {
  test::require_root();
  test::running_ve running(1012);
  auto& v = running.v;
  auto e = test::enter_script(v, "tty; hostname; exit 5\n");
  INFO(e.seen);
  CHECK(e.exit_code == 5);
  CHECK(e.seen.find("/dev/pts/") != std::string::npos);
  CHECK(e.seen.find("ct1012") != std::string::npos);
  MUST(v.stop({.fast = true}));
}
