// The namespaces API on its own: processes in new namespaces, with and without a user
// namespace, entering another process's namespaces, and errors from the child. Where a spawn
// has a first child beside the process, both ways: a fork of ours, and libovz's helper program.

#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include "kernel/spawn_server.hpp"

#include <ovz/namespaces.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

using namespace ovz;

namespace {

// Runs spec with stdout captured; returns exit code and output.
std::pair<int, std::string> run_captured(spawn_spec spec, const process* target = nullptr,
                                         ns_set which = {}) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  unique_fd r(fds[0]), w(fds[1]);
  spec.stdout_fd = w.get();
  auto child = target ? spawn_in(*target, which, spec) : spawn(spec);
  if (!child) FAIL(child.error().message());
  w.reset();
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(r.get(), buf, sizeof buf)) > 0;) out.append(buf, n);
  return {MUST(child->wait()), out};
}

// The helper as the first child, or none (a fork of ours): SECTIONs of a test.
std::string first_child_way() {
  std::string helper;
  SECTION("forked") {}
  SECTION("through the helper program") { helper = OVZ_SPAWN_PATH; }
  return helper;
}

std::uint64_t my_ns(ns_type t) { return MUST(MUST(ns_handle::open(::getpid(), t)).inode()); }

}  // namespace

TEST_CASE("a process in new namespaces gets its own PID 1, hostname and network", "[ns]") {
  test::require_root();
  spawn_spec spec;
  spec.argv = {"/bin/sh", "-c", "echo $$; hostname; ls /sys/class/net | tr '\\n' ' '"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.namespaces = ns_set::ve_default();
  spec.hostname = "ns-test";
  auto [code, out] = run_captured(spec);
  CHECK(code == 0);
  CHECK(out.rfind("1\nns-test\n", 0) == 0);
  // sysfs shows the mounting namespace's devices; the host's mount shows the host's.
  char host[64] = {};
  ::gethostname(host, sizeof host - 1);
  CHECK(std::string(host) != "ns-test");
}

TEST_CASE("a user namespace maps the process's root to an unprivileged host range", "[ns]") {
  test::require_root();
  spawn_spec spec;
  spec.argv = {"/bin/sh", "-c", "id -u; cat /proc/self/uid_map"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.namespaces.add(ns_type::user).add(ns_type::uts);
  spec.uid_map = {{0, 100000, 65536}};
  spec.gid_map = {{0, 100000, 65536}};
  spec.hostname = "userns";
  auto [code, out] = run_captured(spec);
  CHECK(code == 0);
  CHECK(out.find("0\n") == 0);
  CHECK(out.find("100000") != std::string::npos);
}

TEST_CASE("spawn_in enters a running process's namespaces", "[ns]") {
  test::require_root();
  const std::string helper = first_child_way();
  spawn_spec holder;
  holder.argv = {"/bin/sleep", "30"};
  holder.namespaces.add(ns_type::uts).add(ns_type::net);
  holder.hostname = "target-ns";
  holder.detach = true;
  holder.helper = helper;
  auto target = MUST(spawn(holder));
  CHECK(MUST(MUST(ns_handle::open(target.pid(), ns_type::uts)).inode()) != my_ns(ns_type::uts));

  spawn_spec probe;
  probe.argv = {"/bin/hostname"};
  probe.helper = helper;
  ns_set which;
  which.add(ns_type::uts).add(ns_type::net);
  auto [code, out] = run_captured(probe, &target, which);
  CHECK(code == 0);
  CHECK(out == "target-ns\n");
  MUST(target.signal(SIGKILL));
  CHECK(MUST(target.wait_exit(std::chrono::seconds(5))));
}

TEST_CASE("spawn_in through the helper: the caller's child is the helper, not a copy of it", "[ns]") {
  test::require_root();
  spawn_spec holder;
  holder.argv = {"/bin/sleep", "30"};
  holder.namespaces.add(ns_type::pid).add(ns_type::uts);
  holder.detach = true;
  auto target = MUST(spawn(holder));

  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  unique_fd r(fds[0]), w(fds[1]);
  spawn_spec probe;
  probe.argv = {"/bin/sh", "-c", "read line || true"};
  probe.helper = OVZ_SPAWN_PATH;
  probe.stdin_fd = r.get();
  ns_set which;
  which.add(ns_type::pid).add(ns_type::uts);
  auto child = MUST(spawn_in(target, which, probe));
  // The process that entered the PID namespace and waits for the command: the helper's image.
  auto exe = std::filesystem::read_symlink(fmt::format("/proc/{}/exe", child.pid()));
  CHECK(exe == std::filesystem::canonical(OVZ_SPAWN_PATH));
  w.reset();  // the command reads end-of-file and ends
  CHECK(MUST(child.wait()) == 0);
  MUST(target.signal(SIGKILL));
  CHECK(MUST(target.wait_exit(std::chrono::seconds(5))));
}

TEST_CASE("a failing step in the child comes back as an error naming it", "[ns]") {
  test::require_root();
  spawn_spec spec;
  spec.argv = {"/bin/true"};
  spec.namespaces.add(ns_type::mnt);
  // Detached: a first child forks the process, by either way.
  spec.helper = first_child_way();
  spec.detach = !spec.helper.empty();
  fs_step bad;
  bad.what = fs_step::kind::mount;
  bad.fstype = "no-such-fs";
  bad.source = "none";
  bad.target = "/nonexistent-ovz-mountpoint";
  spec.fs = {bad};
  auto r = spawn(spec);
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().sys_errno() != 0);
  CHECK(r.error().message().find("mount no-such-fs (none) on /nonexistent-ovz-mountpoint") !=
        std::string::npos);

  spawn_spec missing;
  missing.argv = {"no-such-program-ovz"};
  missing.helper = spec.helper;
  missing.detach = spec.detach;
  auto m = spawn(missing);
  REQUIRE_FALSE(m);
  CHECK(m.error().sys_errno() == ENOENT);
  CHECK(m.error().message().find("execute no-such-program-ovz") != std::string::npos);
}

TEST_CASE("a refusing prepare hook aborts the spawn and kills the child", "[ns]") {
  test::require_root();
  pid_t seen = 0;
  spawn_spec spec;
  spec.argv = {"/bin/sleep", "30"};
  spec.helper = first_child_way();
  spec.detach = !spec.helper.empty();
  spec.prepare = [&](pid_t pid) -> result<void> {
    seen = pid;
    return error(make_error_code(errc::invalid_argument), "refused by the test");
  };
  auto r = spawn(spec);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "refused by the test");
  REQUIRE(seen > 0);
  CHECK_FALSE(test::pid_alive(seen));
}

TEST_CASE("a start gate holds the process before its exec until a byte arrives", "[ns]") {
  test::require_root();
  const std::string helper = first_child_way();
  test::temp_root root;
  const auto marker = root.path() / "ran";
  int gate[2];
  REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
  unique_fd gate_r(gate[0]), gate_w(gate[1]);
  spawn_spec spec;
  spec.argv = {"/bin/sh", "-c", "echo $$ > " + marker.string()};
  spec.namespaces.add(ns_type::pid).add(ns_type::mnt);
  spec.helper = helper;
  spec.detach = !helper.empty();
  spec.start_gate = gate_r.get();
  auto child = MUST(spawn(spec));
  // Set up and waiting: the program has not run, and the process is still the spawn's.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(std::filesystem::exists(marker));
  CHECK(test::pid_alive(child.pid()));
  REQUIRE(::write(gate_w.get(), "s", 1) == 1);
  CHECK(MUST(child.wait_exit(std::chrono::seconds(10))));
  CHECK(test::read_text(marker) == "1\n");  // PID 1 of its namespace, as the plan said

  SECTION("a program that is not there fails the spawn, not the start") {
    spawn_spec missing = spec;
    missing.argv = {"no-such-program-ovz"};
    auto m = spawn(missing);
    REQUIRE_FALSE(m);
    CHECK(m.error().sys_errno() == ENOENT);
    CHECK(m.error().message().find("execute no-such-program-ovz") != std::string::npos);
  }
  SECTION("end-of-file at the gate ends the process with status 1, the program never run") {
    std::filesystem::remove(marker);
    auto held = MUST(spawn(spec));
    gate_w.reset();
    if (helper.empty()) {
      CHECK(MUST(held.wait()) == 1);
    } else {
      CHECK(MUST(held.wait_exit(std::chrono::seconds(10))));
    }
    CHECK_FALSE(std::filesystem::exists(marker));
  }
}

TEST_CASE("a process runs as the user and with the limits given, what is masked hidden", "[ns]") {
  test::require_root();
  spawn_spec spec;
  spec.argv = {"/bin/sh", "-c",
               "id -u; id -g; id -G; grep 'Max processes' /proc/self/limits; "
               "wc -c < /etc/hostname; ls -A /sys/firmware | wc -l; touch /sys/firmware/x"};
  spec.namespaces.add(ns_type::mnt);
  spec.helper = first_child_way();
  spec.user = process_user{65534, 65534, {65534, 100}};
  spec.rlimits = {{RLIMIT_NPROC, {77, 88}}};
  fs_step file, dir, absent;
  file.what = dir.what = absent.what = fs_step::kind::mask;
  file.target = "/etc/hostname";
  dir.target = "/sys/firmware";
  absent.target = "/nonexistent-ovz-masked";
  absent.optional = true;
  spec.fs = {file, dir, absent};
  auto [code, out] = run_captured(spec);
  CHECK(code != 0);  // the touch in the read-only, empty directory fails
  std::vector<std::string> lines;
  for (std::size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1)
    lines.push_back(out.substr(pos, nl - pos));
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == "65534");
  CHECK(lines[1] == "65534");
  CHECK(lines[2] == "65534 100");
  CHECK_THAT(lines[3], Catch::Matches("Max processes +77 +88 +processes *"));
  CHECK(lines[4] == "0");
  CHECK(lines[5] == "0");
  // In its mount namespace only.
  CHECK(std::filesystem::file_size("/etc/hostname") > 0);
}

TEST_CASE("a process is made in the namespaces it joins, new ones beside them", "[ns]") {
  test::require_root();
  spawn_spec holder;
  holder.argv = {"/bin/sleep", "30"};
  holder.namespaces.add(ns_type::pid).add(ns_type::net).add(ns_type::uts);
  holder.hostname = "holder";
  holder.detach = true;
  auto target = MUST(spawn(holder));
  auto net = MUST(ns_handle::open(target.pid(), ns_type::net));
  auto pid = MUST(ns_handle::open(target.pid(), ns_type::pid));

  spawn_spec spec;
  spec.argv = {"/bin/sh", "-c", "hostname; readlink /proc/self/ns/net; echo $$"};
  spec.namespaces.add(ns_type::uts);
  spec.hostname = "joiner";
  spec.join = {{ns_type::net, net.fd()}, {ns_type::pid, pid.fd()}};
  spec.helper = first_child_way();
  auto [code, out] = run_captured(spec);
  CHECK(code == 0);
  const auto net_inode = MUST(net.inode());
  // Its own hostname, the holder's network namespace, a PID after the holder's 1.
  CHECK_THAT(out, Catch::Matches(fmt::format("joiner\nnet:\\[{}\\]\n[0-9]+\n", net_inode)));
  CHECK(out.substr(out.rfind(']') + 2) != "1\n");

  spawn_spec refused = spec;
  refused.namespaces.add(ns_type::net);
  auto r = spawn(refused);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == errc::invalid_argument);
  MUST(target.signal(SIGKILL));
  CHECK(MUST(target.wait_exit(std::chrono::seconds(5))));
}

// A spawn that needs a first child (it joins our own network namespace, held by `net`), made
// by libovz's helper program: the spawn server's work.
namespace {
spawn_spec served_spec(const char* script, const ns_handle& net) {
  spawn_spec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.join = {{ns_type::net, net.fd()}};
  spec.helper = OVZ_SPAWN_PATH;
  return spec;
}
}  // namespace

TEST_CASE("a spawn whose plan is too large for the spawn server's socket goes to a helper of "
          "its own", "[ns]") {
  test::require_root();
  auto net = MUST(ns_handle::open(::getpid(), ns_type::net));
  auto spec = served_spec("echo ${#A}${#B}${#C}${#D}${#E}", net);
  // 500 KB of environment (a string may have 128 KiB): more than a socket's default buffer.
  for (const char* name : {"A", "B", "C", "D", "E"})
    spec.env.push_back(std::string(name) + "=" + std::string(100000, 'x'));
  auto [code, out] = run_captured(spec);
  CHECK(code == 0);
  CHECK(out == "100000100000100000100000100000\n");
}

TEST_CASE("a spawn server socket whose number the caller closed and reused is left alone, and "
          "a new server serves", "[ns]") {
  test::require_root();
  auto net = MUST(ns_handle::open(::getpid(), ns_type::net));
  const auto spec = served_spec("echo served", net);
  CHECK(run_captured(spec).second == "served\n");
  const int sock = detail::spawn_server_socket();
  REQUIRE(sock >= 0);
  // What a daemon closing every descriptor it did not open, then opening a file, does.
  unique_fd other(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(::dup3(other.get(), sock, O_CLOEXEC) == sock);
  CHECK(run_captured(spec).second == "served\n");
  CHECK(detail::spawn_server_socket() != sock);
  CHECK(std::filesystem::read_symlink(fmt::format("/proc/self/fd/{}", sock)) == "/dev/null");
  ::close(sock);
}

TEST_CASE("a process joining a user namespace is its root, and owns its new namespaces through it",
          "[ns][userns]") {
  test::require_root();
  spawn_spec holder;
  holder.argv = {"/bin/sleep", "30"};
  holder.namespaces.add(ns_type::user);
  holder.uid_map = holder.gid_map = {{0, 320000, 65536}};
  holder.detach = true;
  auto target = MUST(spawn(holder));
  auto user = MUST(ns_handle::open(target.pid(), ns_type::user));
  // A network namespace of the host's user namespace, which the joined one's root may not enter.
  spawn_spec net_holder = holder;
  net_holder.namespaces = ns_set{}.add(ns_type::net);
  net_holder.uid_map = net_holder.gid_map = {};
  auto net_target = MUST(spawn(net_holder));
  auto net = MUST(ns_handle::open(net_target.pid(), ns_type::net));

  spawn_spec spec;
  spec.argv = {"/bin/sh", "-c",
               "id -u; readlink /proc/self/ns/user /proc/self/ns/net; hostname; "
               "readlink /proc/$PPID/ns/user 2>/dev/null || echo parent out of reach"};
  spec.namespaces.add(ns_type::uts);
  spec.hostname = "joiner";
  // Given user first: the network namespace is joined before it all the same.
  spec.join = {{ns_type::user, user.fd()}, {ns_type::net, net.fd()}};
  spec.uid_map = spec.gid_map = holder.uid_map;
  spec.helper = first_child_way();
  auto [code, out] = run_captured(spec);
  CHECK(code == 0);
  // Root of the namespace it joined, in a UTS namespace of its own that it could name; the
  // process that forked it stayed in the host's namespace, where its root cannot reach.
  CHECK(out == fmt::format("0\nuser:[{}]\nnet:[{}]\njoiner\nparent out of reach\n",
                           MUST(user.inode()), MUST(net.inode())));
  for (auto* held : {&target, &net_target}) {
    MUST(held->signal(SIGKILL));
    CHECK(MUST(held->wait_exit(std::chrono::seconds(5))));
  }
}
