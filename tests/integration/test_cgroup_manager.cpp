// The cgroup manager against the real kernel: a VE whose own init makes sub-cgroups (a
// systemd's init.scope and system.slice) stays a VE libovz runs, counts, enters, stops and
// destroys; a VE frozen through its manager stands still, sub-cgroups and all, until thawed.
// CTIDs 13400-13419.

#include "support/proc_info.hpp"
#include "support/temp_root.hpp"

#include <ovz/namespaces.hpp>
#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"

#include <csignal>
#include <thread>

using namespace ovz;
using namespace std::chrono_literals;
using ovz::test::temp_root;

namespace {

// The VE's cgroup directory in each hierarchy (one on v2).
std::vector<std::filesystem::path> ve_dirs(const temp_root& root, const ve& v) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& parent : test::cgroup_parents(root))
    if (std::filesystem::exists(parent / v.id().str())) dirs.push_back(parent / v.id().str());
  REQUIRE_FALSE(dirs.empty());
  return dirs;
}

// What a systemd in the VE does to its cgroup, done from the host to reach the controllers too:
// makes init.scope and system.slice/cron.service in every hierarchy and moves its init into the
// first, every other process into the second. A v1 cpuset sub-cgroup takes tasks only once it
// has CPUs and memory nodes.
void split_like_systemd(const temp_root& root, const ve& v, pid_t init,
                        const std::vector<pid_t>& others) {
  for (const auto& dir : ve_dirs(root, v)) {
    for (const auto& sub : {dir / "init.scope", dir / "system.slice" / "cron.service"}) {
      std::filesystem::create_directories(sub);
      std::vector<std::filesystem::path> levels;  // the top one first: a child takes a subset
      for (auto level = sub; level != dir; level = level.parent_path())
        levels.insert(levels.begin(), level);
      for (const auto& level : levels)
        for (const char* file : {"cpuset.cpus", "cpuset.mems"})
          if (std::filesystem::exists(level / file) &&
              MUST(detail::read_file((level / file).string())) == "\n")
            MUST(detail::write_file((level / file).string(),
                                    MUST(detail::read_file((dir / file).string()))));
    }
    MUST(detail::write_file((dir / "init.scope/cgroup.procs").string(), std::to_string(init)));
    for (pid_t pid : others)
      if (pid != init)
        MUST(detail::write_file((dir / "system.slice/cron.service/cgroup.procs").string(),
                                std::to_string(pid)));
  }
}

// Processes the VE's init keeps running in the background.
void start_sleepers(ve& v) {
  REQUIRE(MUST(v.exec({"/bin/sh", "-c",
                       "for i in 1 2 3; do sleep 1000 </dev/null >/dev/null 2>&1 & done"}))
              .exit_code == 0);
}

}  // namespace

TEST_CASE("a VE whose init makes sub-cgroups stays running, counted and reachable, and stop "
          "and destroy leave no cgroup", "[ve][cgroups][manager]") {
  test::require_root();
  temp_root root;
  auto v = root.open(13400);
  MUST(v.create());
  MUST(v.start());
  start_sleepers(v);
  auto cg = MUST(detail::host_cgroups());
  const auto l = MUST(detail::locate(root.path(), v.id()));
  auto before = MUST(v.status());
  REQUIRE(before.nproc >= 4);
  split_like_systemd(root, v, before.init_pid, MUST(cg->procs(l.cgroup)));
  for (const auto& dir : ve_dirs(root, v))
    CHECK(MUST(detail::read_file((dir / "cgroup.procs").string())).empty());

  auto st = MUST(v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.init_pid == before.init_pid);
  CHECK(st.nproc == before.nproc);
  CHECK(MUST(cg->stats(l.cgroup)).pids.held >= static_cast<std::uint64_t>(before.nproc));
  if (cg->version() == 2) {
    // As a systemd does: controllers for its children, after which the VE's own cgroup
    // takes no process (EBUSY).
    MUST(detail::write_file((ve_dirs(root, v).front() / "cgroup.subtree_control").string(),
                            "+pids"));
  }
  // What is run in the VE joins its init, in init.scope.
  auto out = MUST(v.exec({"/bin/cat", "/proc/self/cgroup"}));
  CHECK(out.exit_code == 0);
  CHECK(out.out.find("/init.scope\n") != std::string::npos);

  MUST(v.stop({.fast = true}));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());

  // A VE whose init and monitor died (a crash) with its sub-cgroups left: destroy removes
  // them all.
  MUST(v.start());
  start_sleepers(v);
  before = MUST(v.status());
  split_like_systemd(root, v, before.init_pid, MUST(cg->procs(l.cgroup)));
  REQUIRE(::kill(test::parent_of(before.init_pid), SIGKILL) == 0);
  REQUIRE(::kill(before.init_pid, SIGKILL) == 0);
  for (int i = 0; i < 1000 && !MUST(cg->procs(l.cgroup)).empty(); ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  REQUIRE(std::filesystem::exists(ve_dirs(root, v).front() / "system.slice/cron.service"));
  MUST(v.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a VE frozen through its manager stands still, sub-cgroups included, runs on when "
          "thawed, and stops while frozen", "[ve][cgroups][manager]") {
  test::require_root();
  test::running_ve running(13401);
  auto& v = running.v;
  REQUIRE(MUST(v.exec({"/bin/sh", "-c",
                       "(while :; do echo x >>/count; done) "
                       "</dev/null >/dev/null 2>&1 &"}))
              .exit_code == 0);
  auto cg = MUST(detail::host_cgroups());
  const auto l = MUST(detail::locate(running.root.path(), v.id()));
  const pid_t init = MUST(v.status()).init_pid;
  split_like_systemd(running.root, v, init, MUST(cg->procs(l.cgroup)));

  // Appends, so that a loop frozen mid-write leaves the size it had.
  auto count = [&] {
    return std::filesystem::file_size("/proc/" + std::to_string(init) + "/root/count");
  };
  std::this_thread::sleep_for(100ms);
  MUST(cg->freeze(l.cgroup));
  const auto frozen_at = count();
  std::this_thread::sleep_for(300ms);
  CHECK(count() == frozen_at);
  CHECK(MUST(v.status()).state == ve_state::running);

  MUST(cg->thaw(l.cgroup));
  std::this_thread::sleep_for(300ms);
  CHECK(count() > frozen_at);

  MUST(cg->freeze(l.cgroup));
  MUST(v.stop({.fast = true}));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(running.root).empty());
}

TEST_CASE("freezing a cgroup that does not exist is an error naming it, thawing it is not",
          "[ve][cgroups][manager]") {
  test::require_root();
  auto cg = MUST(detail::host_cgroups());
  auto frozen = cg->freeze("ovz-no-such-parent/13402");
  REQUIRE_FALSE(frozen);
  CHECK(frozen.error().sys_errno() == ENOENT);
  CHECK(frozen.error().message().find("ovz-no-such-parent/13402") != std::string::npos);
  MUST(cg->thaw("ovz-no-such-parent/13402"));
}

TEST_CASE("on cgroup v2 a process is born in the cgroup spawn is given, and on v1 prepare "
          "moves it there", "[ve][cgroups][manager]") {
  test::require_root();
  temp_root root;
  auto cg = MUST(detail::host_cgroups());
  const auto l = MUST(detail::locate(root.path(), root.open(13403).id()));
  {
    auto held = MUST(cg->create(l.cgroup));
    std::string before_prepare;
    spawn_spec spec;
    spec.argv = {"/bin/true"};
    spec.cgroup_fd = cg->clone_fd(held);
    spec.prepare = [&](pid_t pid) -> result<void> {
      before_prepare = MUST(detail::read_file("/proc/" + std::to_string(pid) + "/cgroup"));
      return cg->attach(held, pid);
    };
    auto child = MUST(spawn(spec));
    CHECK(MUST(child.wait()) == 0);
    INFO(before_prepare);
    if (cg->version() == 2) {
      CHECK(spec.cgroup_fd >= 0);
      CHECK(before_prepare == "0::/" + l.cgroup + "\n");
    } else {
      CHECK(spec.cgroup_fd == -1);
      CHECK(before_prepare.find(l.cgroup) == std::string::npos);
    }
  }
  MUST(cg->remove(l.cgroup));
  cg->remove_if_unused(l.cgroup_parent);
  CHECK(test::leftovers(root).empty());
}
