// The systemd cgroup manager: where systemd owns the cgroup v2 tree, each VE is a transient
// scope with Delegate=yes (kernel/systemd_scope.hpp names it; a CGROUP_PATH in systemd's
// terms names it itself), and its cgroup the "ve" directory below the scope. Below the scope everything is plain cgroup v2, done by the v2
// cgroupfs manager on those directories.
//
// A scope exists only around a process: StartTransientUnit takes its PIDs. So the cgroup is
// made around the VE's init while it waits to be released (needs_process(), cgroup_birth),
// not before the spawn, and the init is not born in it (no CLONE_INTO_CGROUP): systemd moves
// it into the scope, libovz from there into "ve", before it runs anything of the VE's.

#include "fail.hpp"
#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_manager.hpp"
#include "kernel/files.hpp"
#include "kernel/systemd_bus.hpp"
#include "kernel/systemd_scope.hpp"

#include <sys/stat.h>

namespace ovz::detail {
namespace {

// systemd answers at once unless it is busy (a daemon-reload, a boot): generous.
constexpr std::chrono::seconds bus_timeout{30};

class systemd_cgroups final : public cgroup_manager {
 public:
  systemd_cgroups(std::string address, std::string mount, std::string manager_cgroup)
      : address_(std::move(address)),
        mount_(std::move(mount)),
        manager_cgroup_(std::move(manager_cgroup)),
        fs_(make_cgroupfs_v2(mount_)) {}

  int version() const noexcept override { return 2; }
  const char* name() const noexcept override { return "systemd"; }
  bool needs_process() const noexcept override { return true; }
  std::string hierarchy_path(const std::string& path) const override {
    return "/" + ve_path(path);
  }

  result<ve_cgroup> create(const std::string& path) override {
    return fail(errc::unsupported,
                "cgroup {}: a systemd scope cannot be made without a process in it", path);
  }

  result<ve_cgroup> create_with(const std::string& path, pid_t pid) override {
    auto place = scope_of(path);
    const scope_spec spec{std::move(place.unit), std::move(place.slice), scope_description(path),
                          pid};
    BOOST_OUTCOME_TRY(bus, systemd_bus::connect(address_));
    auto started = bus.start_scope(spec, bus_timeout);
    if (!started && started.error().is(errc::already_exists)) {
      // The VE's scope from its last run, stopping or not yet forgotten by systemd.
      BOOST_OUTCOME_TRY(bus.stop_and_forget(spec.unit, bus_timeout));
      started = bus.start_scope(spec, bus_timeout);
    }
    if (!started) return started.error();
    // Every other operation finds the scope by name, without asking systemd: it must be where
    // its name says.
    BOOST_OUTCOME_TRY(given, bus.scope_control_group(spec.unit));
    const auto scope = scope_cgroup(path);
    if (given != scope)
      return fail(errc::unsupported, "systemd at {} put {} in the cgroup /{}, not /{}",
                  address_, spec.unit, given, scope);
    // The init leaves the scope's own cgroup before controllers are enabled for its children:
    // a cgroup v2 with processes of its own cannot give its children controllers.
    const auto leaf = mount_ + "/" + ve_path(path);
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return sys_fail(errno, "mkdir {}", leaf);
    BOOST_OUTCOME_TRY(write_file(leaf + "/cgroup.procs", std::to_string(pid)));
    BOOST_OUTCOME_TRY(enable_controllers(mount_ + "/" + scope));
    return fs_->open(ve_path(path));
  }

  result<ve_cgroup> open(const std::string& path) const override { return fs_->open(ve_path(path)); }
  result<ve_cgroup> open_of(const std::string& path, pid_t member) const override {
    return fs_->open_of(ve_path(path), member);
  }
  result<void> attach(const ve_cgroup& cg, pid_t pid) override { return fs_->attach(cg, pid); }
  result<void> attach_beside(const std::string& path, pid_t member, pid_t pid) override {
    return fs_->attach_beside(ve_path(path), member, pid);
  }
  int clone_fd(const ve_cgroup& cg) const noexcept override { return fs_->clone_fd(cg); }
  result<std::vector<pid_t>> procs(const std::string& path) const override {
    return fs_->procs(ve_path(path));
  }
  bool exists(const std::string& path) const override { return fs_->exists(ve_path(path)); }
  result<void> freeze(const std::string& path) override { return fs_->freeze(ve_path(path)); }
  result<void> thaw(const std::string& path) override { return fs_->thaw(ve_path(path)); }
  result<bool> frozen(const std::string& path) const override {
    return fs_->frozen(ve_path(path));
  }
  result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) override {
    return fs_->kill_all(ve_path(path), timeout);
  }

  // The VE's cgroup goes first (systemd removes only its own), then the scope, empty now:
  // stopped, and waited for until systemd forgets it, so that nothing of the VE is left and
  // its next start can take the name.
  result<void> remove(const std::string& path) override {
    BOOST_OUTCOME_TRY(fs_->remove(ve_path(path)));
    BOOST_OUTCOME_TRY(bus, systemd_bus::connect(address_));
    return bus.stop_and_forget(scope_of(path).unit, bus_timeout);
  }

  // A state root's cgroup parent has nothing of its own here: its VEs' scopes are in
  // machine.slice, which is systemd's, and each goes with its VE (remove()).
  void remove_if_unused(const std::string&) noexcept override {}

  cgroup_resources& resources() noexcept override { return fs_->resources(); }

 private:
  std::string scope_cgroup(const std::string& path) const {
    const auto place = scope_of(path);
    return unit_cgroup(manager_cgroup_, place.slice, place.unit);
  }
  std::string ve_path(const std::string& path) const {
    return scope_cgroup(path) + "/" + std::string(ve_leaf);
  }

  std::string address_;
  std::string mount_;
  std::string manager_cgroup_;  // systemd's own, relative to the hierarchy's root
  std::unique_ptr<cgroup_manager> fs_;
};

}  // namespace

result<std::unique_ptr<cgroup_manager>> make_systemd_cgroups(std::string bus_address,
                                                             std::string mount_point) {
  BOOST_OUTCOME_TRY(bus, systemd_bus::connect(bus_address));
  BOOST_OUTCOME_TRY(root, bus.control_group());
  return std::unique_ptr<cgroup_manager>(
      std::make_unique<systemd_cgroups>(std::move(bus_address), std::move(mount_point), std::move(root)));
}

}  // namespace ovz::detail
