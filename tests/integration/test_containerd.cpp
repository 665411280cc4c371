// containerd (Debian's 1.6) running ovz-oci through its runc shim, the path Kubernetes nodes
// take: ctr run (foreground, exit status, -t, detached), ctr task exec, ps, pause, resume, kill. The daemon is the
// test's own (its root, state and socket in the test's directory); ovz-oci's state root too.

#include "support/program.hpp"
#include "support/runtime_cgroups.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"

#include <fmt/format.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using Catch::Contains;
using ovz::test::describe;

namespace {

namespace fs = std::filesystem;

bool containerd_here() {
  return std::system("command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1") == 0;
}

// A containerd daemon of the test's own, stopped with what it runs at scope exit.
struct containerd_daemon {
  explicit containerd_daemon(const fs::path& dir) : dir(dir), socket(dir / "containerd.sock") {
    had_run_dir = fs::exists("/run/containerd");
    fs::create_directories(dir);
    std::ofstream(dir / "config.toml") << fmt::format(
        "version = 2\nroot = \"{0}/root\"\nstate = \"{0}/state\"\n[grpc]\n  address = \"{1}\"\n",
        dir.string(), socket.string());
    std::cout.flush();
    std::fflush(nullptr);
    pid = ::fork();
    if (pid == 0) {
      const std::string log = (dir / "containerd.log").string();
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execlp("containerd", "containerd", "--config", (dir / "config.toml").c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !fs::exists(socket); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~containerd_daemon() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    // The shims' sockets and ctr's FIFOs live under /run/containerd whatever the config says.
    std::error_code ec;
    if (!had_run_dir) fs::remove_all("/run/containerd", ec);
  }
  ovz::test::outcome ctr(std::vector<std::string> args) const {
    args.insert(args.begin(), {"/usr/bin/ctr", "--address", socket.string()});
    return ovz::test::run_program(std::move(args));
  }
  fs::path dir, socket;
  pid_t pid = -1;
  bool had_run_dir = false;
};

}  // namespace

TEST_CASE("containerd's runc shim runs ovz-oci's containers", "[containerd]") {
  ovz::test::require_root();
  if (!containerd_here()) {
    std::cout << "SKIPPED: containerd is not installed (install-deps.sh installs it)\n";
    return;
  }
  ovz::test::temp_dir dir;
  const fs::path rootfs = dir.path / "rootfs";
  ovz::test::make_busybox_root(rootfs, {"sh", "echo", "sleep", "hostname", "tty"});
  const std::string oci_root = (dir.path / "oci").string();
  // ctr's containers are given the cgroupsPath /<namespace>/<ID>; removed after the daemon.
  ovz::test::runtime_cgroups namespace_cgroups("default");
  containerd_daemon d(dir.path / "containerd");
  REQUIRE(fs::exists(d.socket));
  const std::vector<std::string> run_flags = {"--runc-binary", OVZ_OCI_PATH, "--runc-root", oci_root,
                                              "--rootfs", rootfs.string()};
  auto run = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), run_flags.begin(), run_flags.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return d.ctr(std::move(head));
  };

  auto hello = run({"run", "--rm"}, {"ovz-ctr-1", "/bin/sh", "-c", "echo hello; exit 3"});
  INFO(describe(hello));
  CHECK(hello.out == "hello\n");
  CHECK(hello.exit_code == 3);

  // A terminal through the shim's console socket: ctr wants one of its own on its stdin,
  // which script(1) gives it.
  {
    std::string command = fmt::format("/usr/bin/ctr --address {} run --rm -t", d.socket.string());
    for (const auto& a : run_flags) command += " " + a;
    command += " ovz-ctr-3 /bin/tty";
    auto tty = ovz::test::run_program({"/usr/bin/script", "-qec", command, "/dev/null"});
    INFO(describe(tty));
    CHECK(tty.exit_code == 0);
    CHECK_THAT(tty.out, Contains("/dev/pts/0"));
  }

  auto started = run({"run", "-d"}, {"ovz-ctr-2", "/bin/sleep", "100"});
  INFO(describe(started));
  REQUIRE(started.exit_code == 0);
  const auto places = namespace_cgroups.places();
  CHECK_FALSE(places.empty());
  for (const auto& at : places) CHECK(fs::is_directory(at / "ovz-ctr-2"));
  CHECK_THAT(d.ctr({"task", "ls"}).out, Catch::Matches("[\\s\\S]*ovz-ctr-2 +[0-9]+ +RUNNING[\\s\\S]*"));
  auto in = d.ctr({"task", "exec", "--exec-id", "e1", "ovz-ctr-2", "/bin/sh", "-c", "echo in; exit 4"});
  INFO(describe(in));
  CHECK(in.out == "in\n");
  CHECK(in.exit_code == 4);
  auto ps = d.ctr({"task", "ps", "ovz-ctr-2"});
  INFO(describe(ps));
  CHECK(ps.exit_code == 0);
  CHECK_THAT(ps.out, Catch::StartsWith("PID"));
  // Paused and resumed through the shim (the VE's freezer). Debian's ctr has no task update
  // (Podman's update is tested).
  CHECK(d.ctr({"task", "pause", "ovz-ctr-2"}).exit_code == 0);
  CHECK_THAT(d.ctr({"task", "ls"}).out, Catch::Matches("[\\s\\S]*ovz-ctr-2 +[0-9]+ +PAUSED[\\s\\S]*"));
  CHECK(d.ctr({"task", "resume", "ovz-ctr-2"}).exit_code == 0);
  CHECK_THAT(d.ctr({"task", "ls"}).out, Catch::Matches("[\\s\\S]*ovz-ctr-2 +[0-9]+ +RUNNING[\\s\\S]*"));
  CHECK(d.ctr({"task", "kill", "-s", "SIGKILL", "ovz-ctr-2"}).exit_code == 0);
  for (int i = 0; i < 100 && d.ctr({"task", "ls"}).out.find("STOPPED") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_THAT(d.ctr({"task", "ls"}).out, Contains("STOPPED"));
  CHECK(d.ctr({"task", "rm", "ovz-ctr-2"}).exit_code == 0);
  CHECK(d.ctr({"container", "rm", "ovz-ctr-2"}).exit_code == 0);
  // Nothing of either is left in ovz-oci's state.
  CHECK(fs::is_empty(fs::path(oci_root) / "default" / "oci"));
}
