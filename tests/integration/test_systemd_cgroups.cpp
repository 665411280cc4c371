// The systemd cgroup manager against a real systemd: a `systemd --user` started for the test
// in a cgroup of its own stands in for the host's (only cgroup v2 hosts get the manager, and
// this suite's v2 runs are in the lab, whose init is no systemd). A VE's life through it:
// its cgroup below a delegated scope, limits in force there, status, exec, stop and destroy
// leaving no scope and no cgroup; a checkpoint and restore through it. CTIDs 14000-14009.

#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"

#include <ovz/ctid.hpp>
#include <ovz/host.hpp>
#include <ovz/ve.hpp>

#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_detect.hpp"
#include "kernel/files.hpp"
#include "kernel/systemd_bus.hpp"
#include "kernel/systemd_scope.hpp"
#include "model/layout.hpp"
#include "ve/host_services.hpp"
#include "ve/locate.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <thread>

namespace fs = std::filesystem;
using namespace ovz;
using namespace std::chrono_literals;

namespace {

const fs::path cgroup_mount = "/sys/fs/cgroup";
const fs::path systemd_binary = "/lib/systemd/systemd";
const fs::path systemd_dir = "/run/systemd/system";

// A user manager (systemd --user) in the cgroup /ovz-test-systemd-<PID>, reachable on its
// private socket. It refuses to run unless systemd looks like the init (/run/systemd/system
// exists: sd_booted), which is made for it where missing and removed again afterwards.
class user_systemd {
 public:
  user_systemd() {
    if (!MUST(detail::probe_cgroup_host(cgroup_mount, systemd_dir)).cgroup2) {
      why_not_ = "cgroup v1 here: the systemd manager is for cgroup v2 hosts (the lab runs it)";
      return;
    }
    if (::access(systemd_binary.c_str(), X_OK) != 0) {
      why_not_ = systemd_binary.string() + " is missing (install-deps.sh installs systemd)";
      return;
    }
    // Fixes this process's detected host before the runtime directory below says systemd is
    // the init, which would make a later detection look for the system's systemd.
    MUST(host::detect());
    if (!fs::exists(systemd_dir)) {
      made_run_dir_ = !fs::exists(systemd_dir.parent_path());
      made_systemd_dir_ = true;
      fs::create_directories(systemd_dir);
    }
    // What the manager hands its delegated scopes must be enabled for its own cgroup.
    MUST(detail::enable_controllers(cgroup_mount.string()));
    cgroup_ = cgroup_mount / ("ovz-test-systemd-" + std::to_string(::getpid()));
    fs::create_directory(cgroup_);
    start();
  }

  ~user_systemd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 1000 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(10ms);
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    if (!cgroup_.empty()) {
      if (auto ok = detail::remove_tree(cgroup_.string()); !ok)
        std::cout << "cannot remove " << cgroup_ << ": " << ok.error().message() << "\n";
    }
    std::error_code ec;
    if (made_systemd_dir_) fs::remove(systemd_dir, ec);
    if (made_run_dir_) fs::remove(systemd_dir.parent_path(), ec);
  }

  /// Why there is no manager here; empty when it runs.
  const std::string& why_not() const { return why_not_; }
  std::string bus() const { return "unix:path=" + (runtime_.path / "systemd/private").string(); }
  /// Its own cgroup, relative to the hierarchy's root.
  std::string cgroup() const { return cgroup_.filename().string(); }
  std::string log() const { return MUST(detail::read_file((runtime_.path / "log").string())); }

 private:
  void start() {
    // The shell moves itself into the manager's cgroup before it becomes the manager.
    const std::string script = "echo $$ > " + (cgroup_ / "cgroup.procs").string() + " && exec " +
                               systemd_binary.string() + " --user --log-target=console";
    const std::string runtime_env = "XDG_RUNTIME_DIR=" + runtime_.path.string();
    const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
    const char* envp[] = {runtime_env.c_str(), "HOME=/root", "PATH=/usr/bin:/bin", nullptr};
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, (runtime_.path / "log").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    const int err = ::posix_spawn(&pid_, argv[0], &files, nullptr, const_cast<char**>(argv),
                                  const_cast<char**>(envp));
    posix_spawn_file_actions_destroy(&files);
    REQUIRE(err == 0);
    // It answers once it has set itself up: a few seconds under the lab's emulated CPU.
    for (int i = 0; i < 300; ++i) {
      if (detail::systemd_bus::connect(bus())) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        FAIL("systemd --user exited: " << log());
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL("systemd --user does not answer at " << bus() << " after 30 s: " << log());
  }

  test::temp_dir runtime_;  // its XDG_RUNTIME_DIR and its log
  fs::path cgroup_;
  pid_t pid_ = 0;
  bool made_run_dir_ = false, made_systemd_dir_ = false;
  std::string why_not_;
};

// Stops and destroys the VE through its own host whatever the test did, before the manager
// goes (temp_root's clean-up uses the detected host, which knows nothing of the scope).
struct ve_guard {
  ve& v;
  ~ve_guard() {
    if (auto st = v.status(); st && st->state == ve_state::running) (void)v.stop({.fast = true});
    (void)v.destroy();
  }
};

// A host whose cgroup manager is `manager`; none, said why, where it cannot run.
std::optional<host> host_of(const user_systemd& manager) {
  if (!manager.why_not().empty()) {
    WARN("SKIPPED: " << manager.why_not());
    return std::nullopt;
  }
  return MUST(host::with_systemd(manager.bus()));
}

std::string cgroup_of(pid_t pid) {
  return MUST(detail::read_file("/proc/" + std::to_string(pid) + "/cgroup"));
}

}  // namespace

TEST_CASE("with systemd as the cgroup manager a VE lives below a delegated scope with its "
          "limits, and stop and destroy leave no scope and no cgroup",
          "[ve][cgroups][systemd]") {
  test::require_root();
  user_systemd manager;
  auto managed = host_of(manager);
  if (!managed) return;
  auto& on = *managed;
  CHECK(on.cgroup_manager() == std::string("systemd"));
  CHECK(on.cgroup_version() == 2);
  test::temp_root root;
  auto v = MUST(ve::open(MUST(ctid::from_number(14000)), root.path(), on));
  ve_guard guard{v};
  MUST(v.create());
  MUST(v.set({.ubc = {{ubc_resource::numproc, ubc_value{40, 40}}}}, true));

  const auto path = MUST(detail::locate(root.path(), v.id())).cgroup;
  const auto unit = detail::scope_unit(path);
  const auto scope = manager.cgroup() + "/machine.slice/" + unit;
  const auto leaf = cgroup_mount / scope / "ve";
  auto bus = MUST(detail::systemd_bus::connect(manager.bus()));

  // A scope of the VE's name that a crashed start left with a process in it: the start stops
  // it (its process killed) and makes its own.
  pid_t stale = 0;
  const char* sleeper[] = {"/bin/sleep", "1000", nullptr};
  REQUIRE(::posix_spawn(&stale, sleeper[0], nullptr, nullptr, const_cast<char**>(sleeper),
                        environ) == 0);
  MUST(bus.start_scope({unit, "machine.slice", "left by a crash", stale}, 10s));

  for (int run = 0; run < 2; ++run) {
    INFO("run " << run);
    MUST(v.start());
    auto st = MUST(v.status());
    REQUIRE(st.state == ve_state::running);
    if (stale) {
      int status = 0;
      CHECK(::waitpid(stale, &status, 0) == stale);
      CHECK((WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL)));
      stale = 0;
    }
    // systemd knows the scope, and the VE's init is in the VE's cgroup below it.
    CHECK(MUST(bus.knows(unit)));
    CHECK(MUST(bus.scope_control_group(unit)) == scope);
    CHECK(cgroup_of(st.init_pid) == "0::/" + scope + "/ve\n");
    CHECK(MUST(detail::read_file((cgroup_mount / scope / "cgroup.procs").string())).empty());
    // The limit set before the start holds there from the start; a live change too.
    CHECK(MUST(detail::read_file((leaf / "pids.max").string())) == "40\n");
    MUST(v.set({.ubc = {{ubc_resource::numproc, ubc_value{50, 50}}}}, false));
    CHECK(MUST(detail::read_file((leaf / "pids.max").string())) == "50\n");
    // What runs in the VE joins it and sees its cgroup as the root of its cgroup namespace,
    // although the init was not born in it.
    auto out = MUST(v.exec({"/bin/cat", "/proc/self/cgroup"}));
    CHECK(out.exit_code == 0);
    CHECK(out.out == "0::/\n");
    CHECK(MUST(v.status()).nproc >= 1);
    // The manager's other operations work on the VE's cgroup below the scope as on any v2.
    auto& cg = on.services().cg();
    CHECK(MUST(cg.stats(path)).pids.held >= 1);
    MUST(v.suspend());
    CHECK(MUST(detail::read_file((leaf / "cgroup.events").string())).find("frozen 1") !=
          std::string::npos);
    CHECK(MUST(v.status()).suspended);
    MUST(v.resume());
    CHECK(MUST(detail::read_file((leaf / "cgroup.events").string())).find("frozen 0") !=
          std::string::npos);
    CHECK_FALSE(MUST(v.status()).suspended);
    CHECK(MUST(v.exec({"/bin/true"})).exit_code == 0);

    MUST(v.stop({.fast = true}));
    CHECK(MUST(v.status()).state == ve_state::stopped);
    CHECK_FALSE(MUST(bus.knows(unit)));
    CHECK_FALSE(fs::exists(cgroup_mount / scope));
  }
  MUST(v.destroy());
  CHECK_FALSE(MUST(bus.knows(unit)));
  CHECK_FALSE(fs::exists(cgroup_mount / scope));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("with systemd as the cgroup manager a checkpointed VE comes back below its scope, "
          "its processes where they were", "[ve][cgroups][systemd][checkpoint]") {
  test::require_root();
  user_systemd manager;
  auto managed = host_of(manager);
  if (!managed || !test::checkpoint_works_here()) return;
  auto& on = *managed;
  test::temp_root root;
  auto v = MUST(ve::open(MUST(ctid::from_number(14001)), root.path(), on));
  ve_guard guard{v};
  MUST(v.create());
  MUST(v.set({.ubc = {{ubc_resource::numproc, ubc_value{40, 40}}}}, true));
  MUST(v.start());
  MUST(v.exec({"sh", "-c", "sleep 1000 </dev/null >/dev/null 2>&1 &"}));
  const auto sleeper = MUST(v.exec({"pidof", "sleep"})).out;
  REQUIRE_FALSE(sleeper.empty());

  MUST(v.checkpoint());
  const auto path = MUST(detail::locate(root.path(), v.id())).cgroup;
  const auto unit = detail::scope_unit(path);
  const auto scope = manager.cgroup() + "/machine.slice/" + unit;
  auto bus = MUST(detail::systemd_bus::connect(manager.bus()));
  CHECK_FALSE(MUST(bus.knows(unit)));

  MUST(v.restore());
  const auto st = MUST(v.status());
  REQUIRE(st.state == ve_state::running);
  // The scope made anew, the VE's processes in its leaf, its limit there, the same PIDs.
  CHECK(MUST(bus.knows(unit)));
  CHECK(cgroup_of(st.init_pid) == "0::/" + scope + "/ve\n");
  CHECK(MUST(detail::read_file((cgroup_mount / scope / "ve/pids.max").string())) == "40\n");
  CHECK(MUST(v.exec({"pidof", "sleep"})).out == sleeper);
  CHECK(MUST(v.exec({"/bin/cat", "/proc/self/cgroup"})).out == "0::/\n");

  MUST(v.stop({.fast = true}));
  CHECK_FALSE(MUST(bus.knows(unit)));
  CHECK_FALSE(fs::exists(cgroup_mount / scope));
  MUST(v.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("with systemd as the cgroup manager a CGROUP_PATH in systemd's terms names the VE's "
          "scope and its slice, as an OCI runtime's systemd driver is given them",
          "[ve][cgroups][systemd]") {
  test::require_root();
  user_systemd manager;
  auto managed = host_of(manager);
  if (!managed) return;
  auto& on = *managed;
  test::temp_root root;
  auto v = MUST(ve::open(MUST(ctid::from_number(14002)), root.path(), on));
  ve_guard guard{v};
  MUST(v.create());
  // What ovz-oci writes for Podman's "machine-ovz.slice:libpod:ID" (a slice of our own, so
  // that nothing of the manager's machine.slice is touched).
  auto conf = MUST(v.config());
  MUST(conf.set("CGROUP_PATH", "/machine.slice/machine-ovz.slice/libpod-14002.scope"));
  MUST(conf.save(v.conf_path()));
  MUST(v.start());
  const std::string unit = "libpod-14002.scope";
  const auto scope = manager.cgroup() + "/machine.slice/machine-ovz.slice/" + unit;
  auto bus = MUST(detail::systemd_bus::connect(manager.bus()));
  CHECK(MUST(bus.knows(unit)));
  CHECK(MUST(bus.scope_control_group(unit)) == scope);
  CHECK(cgroup_of(MUST(v.status()).init_pid) == "0::/" + scope + "/ve\n");
  CHECK(MUST(v.exec({"/bin/true"})).exit_code == 0);
  MUST(v.stop({.fast = true}));
  CHECK_FALSE(MUST(bus.knows(unit)));
  CHECK_FALSE(fs::exists(cgroup_mount / scope));
  MUST(v.destroy());
  CHECK(test::leftovers(root).empty());
}
