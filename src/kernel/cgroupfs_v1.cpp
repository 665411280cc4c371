// The cgroupfs manager of cgroup v1: one hierarchy per controller (or co-mounted group), as
// on legacy and hybrid hosts. A VE's cgroup is the same relative path in each hierarchy VEs
// use (kernel/cgroup_mounts.hpp), name=systemd and the unified one included: a systemd in
// the VE makes its cgroups there, and must find the VE's cgroup as its root, not the host's.

#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_manager.hpp"
#include "kernel/cgroup_mounts.hpp"
#include "kernel/fault.hpp"
#include "kernel/files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace ovz::detail {
namespace {

bool has(const cgroup_hierarchy& h, std::string_view controller) {
  return std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end();
}

// A cpuset cgroup starts with no CPUs and no memory nodes, and refuses tasks (ENOSPC) until
// it has some: a level found without them gets its parent's, whoever made it. A crash between
// another start's mkdir and its write, or that start still on its way to the write, leaves
// a level empty. Each level then hands its own to the cgroups made in it (clone_children):
// a VE's is born with them, where a write of a new cgroup's cpuset.cpus would rebuild the
// scheduler's domains, a tenth of a millisecond of every start.
result<void> settle_cpuset(const std::string& parent, const std::string& dir) {
  auto blank = [](const std::string& s) { return s.find_first_not_of(" \n") == std::string::npos; };
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    BOOST_OUTCOME_TRY(own, read_file(dir + "/" + file));
    if (!blank(own)) continue;
    BOOST_OUTCOME_TRY(given, read_file(parent + "/" + file));
    if (blank(given))
      return fail(errc::unsupported, "{}/{} is empty: no CPUs or memory nodes to give {}",
                  parent, file, dir);
    BOOST_OUTCOME_TRY(write_file(dir + "/" + file, given));
  }
  return write_file(dir + "/cgroup.clone_children", "1");
}

class cgroupfs_v1 final : public cgroup_manager {
 public:
  cgroupfs_v1() : h_(ve_cgroup_hierarchies()), resources_(make_cgroup_v1_resources()) {
    auto pids = std::find_if(h_.begin(), h_.end(), [](const auto& h) { return has(h, "pids"); });
    procs_index_ = pids == h_.end() ? 0 : static_cast<std::size_t>(pids - h_.begin());
  }

  int version() const noexcept override { return 1; }

  result<ve_cgroup> create(const std::string& path) override {
    if (h_.empty())
      return fail(errc::unsupported,
                  "no cgroup v1 controller is mounted under /sys/fs/cgroup and it is not cgroup2");
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(make_levels(h.mount_point, path, [&](const std::string& parent,
                                                        const std::string& dir) -> result<void> {
        return has(h, "cpuset") ? settle_cpuset(parent, dir) : success();
      }));
    }
    return open(path);
  }

  result<ve_cgroup> open(const std::string& path) const override {
    ve_cgroup cg;
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(dir, cgroup_dir::open(h.mount_point + "/" + path));
      cg.dirs.push_back({h.controllers, std::move(dir)});
    }
    return cg;
  }

  result<ve_cgroup> open_of(const std::string& path, pid_t member) const override {
    BOOST_OUTCOME_TRY(dirs, dirs_of(path, member));
    ve_cgroup cg;
    for (std::size_t i = 0; i < h_.size(); ++i) {
      BOOST_OUTCOME_TRY(dir, cgroup_dir::open(dirs[i]));
      cg.dirs.push_back({h_[i].controllers, std::move(dir)});
    }
    return cg;
  }

  // Each hierarchy's cgroup.procs opened by path for the one write: an exec or enter pays
  // this on every hierarchy (a dozen), a third of the calls of holding the directories open.
  // v1 has no EBUSY to retry: a cgroup with children takes processes.
  result<void> attach_beside(const std::string& path, pid_t member, pid_t pid) override {
    BOOST_OUTCOME_TRY(dirs, dirs_of(path, member));
    const auto id = std::to_string(pid);
    for (const auto& dir : dirs) {
      BOOST_OUTCOME_TRY(write_file(dir + "/cgroup.procs", id));
    }
    return success();
  }

  result<void> attach(const ve_cgroup& cg, pid_t pid) override {
    for (const auto& h : cg.dirs) {
      BOOST_OUTCOME_TRY(h.dir.write("cgroup.procs", std::to_string(pid)));
    }
    return success();
  }

  int clone_fd(const ve_cgroup&) const noexcept override { return -1; }

  result<std::vector<pid_t>> procs(const std::string& path) const override {
    if (h_.empty()) return std::vector<pid_t>{};
    return read_procs(dir(path));
  }

  // In any hierarchy: a crash half-way through create() leaves the cgroup in some only.
  bool exists(const std::string& path) const override {
    return std::any_of(h_.begin(), h_.end(), [&](const cgroup_hierarchy& h) {
      struct stat st {};
      return ::stat((h.mount_point + "/" + path).c_str(), &st) == 0;
    });
  }

  // The freezer's states: FREEZING until every task of the cgroup and its sub-cgroups
  // stopped, then FROZEN.
  result<void> freeze(const std::string& path) override {
    auto h = with("freezer");
    if (!h) return fail(errc::unsupported, "the cgroup v1 freezer is not mounted");
    BOOST_OUTCOME_TRY(d, cgroup_dir::open(h->mount_point + "/" + path));
    BOOST_OUTCOME_TRY(d.write("freezer.state", "FROZEN"));
    return wait_for(d, "freezer.state",
                    [](const std::string& s) { return s.starts_with("FROZEN"); }, "FROZEN");
  }

  // Fine when the cgroup does not exist (in the freezer hierarchy) or the freezer is absent.
  result<void> thaw(const std::string& path) override {
    auto h = with("freezer");
    if (!h) return success();
    auto ok = write_file(h->mount_point + "/" + path + "/freezer.state", "THAWED");
    if (!ok && ok.error().sys_errno() != ENOENT) return ok.error();
    return success();
  }

  // FREEZING, the state until the last task stopped, is not frozen yet.
  result<bool> frozen(const std::string& path) const override {
    auto h = with("freezer");
    if (!h) return false;
    BOOST_OUTCOME_TRY(state, read_if_present(h->mount_point + "/" + path + "/freezer.state"));
    return state && state->starts_with("FROZEN");
  }

  // Each round freezes the cgroup, signals what it and its sub-cgroups list and thaws it: a
  // frozen process can neither fork nor exit, so no PID it lists is reused by another process
  // before its signal (SIGKILL takes effect at the thaw). Where it cannot be frozen (no freezer
  // hierarchy, or a task stuck in the kernel) the processes are signalled all the same.
  result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) override {
    if (h_.empty()) return success();
    auto listed = cgroup_dir::open(dir(path));
    if (!listed) return listed.error().sys_errno() == ENOENT ? success() : result<void>(listed.error());
    return kill_until_empty(*listed, timeout, [&]() -> result<void> {
      if (freeze(path)) fault_point("cgroup:frozen");
      auto signalled = signal_procs(*listed);
      BOOST_OUTCOME_TRY(thaw(path));
      return signalled;
    });
  }

  result<void> remove(const std::string& path) override {
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(remove_tree(h.mount_point + "/" + path));
    }
    return success();
  }

  void remove_if_unused(const std::string& path) noexcept override {
    if (path.empty()) return;
    for (const auto& h : h_) ::rmdir((h.mount_point + "/" + path).c_str());
  }

  cgroup_resources& resources() noexcept override { return *resources_; }

 private:
  const cgroup_hierarchy* with(std::string_view controller) const {
    for (const auto& h : h_)
      if (has(h, controller)) return &h;
    return nullptr;
  }

  std::string dir(const std::string& path) const { return h_[procs_index_].mount_point + "/" + path; }

  // The directory of the cgroup at or below `path` that `member` is in, in each hierarchy.
  result<std::vector<std::string>> dirs_of(const std::string& path, pid_t member) const {
    BOOST_OUTCOME_TRY(listed, read_file("/proc/" + std::to_string(member) + "/cgroup"));
    std::vector<std::string> dirs;
    for (const auto& h : h_)
      dirs.push_back(h.mount_point + "/" + member_of(listed, h.controllers.front(), path));
    return dirs;
  }

  std::vector<cgroup_hierarchy> h_;
  std::size_t procs_index_ = 0;
  std::unique_ptr<cgroup_resources> resources_;
};

}  // namespace

std::unique_ptr<cgroup_manager> make_cgroupfs_v1() { return std::make_unique<cgroupfs_v1>(); }

}  // namespace ovz::detail
