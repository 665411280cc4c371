// The cgroupfs manager of cgroup v2: one unified hierarchy. Controllers must be enabled in
// each ancestor's cgroup.subtree_control before a VE's cgroup gets their files.

#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_manager.hpp"
#include "kernel/files.hpp"
#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

namespace ovz::detail {
namespace {

constexpr const char* wanted[] = {"cpuset", "cpu", "io", "memory", "pids"};

}  // namespace

// A controller that cannot be enabled (offered by no ancestor, or a threaded subtree) is left
// off here; whoever needs its files reports that it is missing.
result<void> enable_controllers(const std::string& parent) {
  BOOST_OUTCOME_TRY(offered, read_file(parent + "/cgroup.controllers"));
  BOOST_OUTCOME_TRY(enabled, read_file(parent + "/cgroup.subtree_control"));
  auto words = [](const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> w;
    for (std::string x; in >> x;) w.push_back(x);
    return w;
  };
  auto has = [](const std::vector<std::string>& list, std::string_view c) {
    for (const auto& x : list)
      if (x == c) return true;
    return false;
  };
  auto offered_list = words(offered), enabled_list = words(enabled);
  for (const char* c : wanted)
    if (has(offered_list, c) && !has(enabled_list, c))
      logged(write_file(parent + "/cgroup.subtree_control", std::string("+") + c),
             fmt::format("enable {} for the children of {}", c, parent));
  return success();
}

namespace {

// A line "key value" of cgroup.events.
bool event_is(const std::string& events, std::string_view line) {
  std::istringstream in(events);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

class cgroupfs_v2 final : public cgroup_manager {
 public:
  explicit cgroupfs_v2(std::string mount)
      : mount_(std::move(mount)), resources_(make_cgroup_v2_resources()) {}

  int version() const noexcept override { return 2; }

  result<ve_cgroup> create(const std::string& path) override {
    // Each level gets the controllers from its parent; a cgroup that enables them for
    // children may not hold processes itself, so the VE's own cgroup enables none. A parent
    // found without them (a crash after its mkdir, or a concurrent first start not there yet)
    // gets them too: a VE cgroup without the pids controller would run with no NUMPROC.
    BOOST_OUTCOME_TRY(make_levels(mount_, path, [](const std::string& parent, const std::string&) {
      return enable_controllers(parent);
    }));
    return open(path);
  }

  result<ve_cgroup> open(const std::string& path) const override {
    BOOST_OUTCOME_TRY(d, cgroup_dir::open(dir(path)));
    ve_cgroup cg;
    cg.dirs.push_back({{}, std::move(d)});
    return cg;
  }

  result<ve_cgroup> open_of(const std::string& path, pid_t member) const override {
    BOOST_OUTCOME_TRY(listed, read_file("/proc/" + std::to_string(member) + "/cgroup"));
    return open(member_of(listed, "", path));
  }

  result<void> attach(const ve_cgroup& cg, pid_t pid) override {
    return cg.dirs.front().dir.write("cgroup.procs", std::to_string(pid));
  }

  int clone_fd(const ve_cgroup& cg) const noexcept override { return cg.dirs.front().dir.fd(); }

  result<std::vector<pid_t>> procs(const std::string& path) const override {
    return read_procs(dir(path));
  }

  bool exists(const std::string& path) const override {
    struct stat st {};
    return ::stat(dir(path).c_str(), &st) == 0;
  }

  // cgroup.freeze (Linux 5.2) freezes the sub-cgroups too; cgroup.events says "frozen 1"
  // once every task of them all has stopped.
  result<void> freeze(const std::string& path) override {
    BOOST_OUTCOME_TRY(d, cgroup_dir::open(dir(path)));
    BOOST_OUTCOME_TRY(d.write("cgroup.freeze", "1"));
    return wait_for(d, "cgroup.events",
                    [](const std::string& e) { return event_is(e, "frozen 1"); }, "frozen");
  }

  result<void> thaw(const std::string& path) override {
    auto ok = write_file(dir(path) + "/cgroup.freeze", "0");
    if (!ok && ok.error().sys_errno() != ENOENT) return ok.error();
    return success();
  }

  // cgroup.freeze says what was asked, cgroup.events whether it is done (a kernel before 5.2
  // has no "frozen" line there, nor a freezer).
  result<bool> frozen(const std::string& path) const override {
    BOOST_OUTCOME_TRY(events, read_if_present(dir(path) + "/cgroup.events"));
    return events && event_is(*events, "frozen 1");
  }

  // cgroup.kill (Linux 5.14) kills the cgroup and its sub-cgroups at once, forks in flight
  // included, and never signals a PID that was reused; older kernels get SIGKILL by PID.
  result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) override {
    auto d = cgroup_dir::open(dir(path));
    if (!d) return d.error().sys_errno() == ENOENT ? success() : result<void>(d.error());
    return kill_until_empty(*d, timeout, [&]() -> result<void> {
      if (logged(d->write("cgroup.kill", "1"), "killing by PID instead", log_level::info))
        return success();
      return signal_procs(*d);
    });
  }

  result<void> remove(const std::string& path) override { return remove_tree(dir(path)); }

  void remove_if_unused(const std::string& path) noexcept override {
    if (!path.empty()) ::rmdir(dir(path).c_str());
  }

  cgroup_resources& resources() noexcept override { return *resources_; }

 private:
  std::string dir(const std::string& path) const { return mount_ + "/" + path; }
  std::string mount_;
  std::unique_ptr<cgroup_resources> resources_;
};

}  // namespace

std::unique_ptr<cgroup_manager> make_cgroupfs_v2(std::string mount_point) {
  return std::make_unique<cgroupfs_v2>(std::move(mount_point));
}

}  // namespace ovz::detail
