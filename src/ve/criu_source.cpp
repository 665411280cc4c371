#include "ve/criu_source.hpp"

#include "fail.hpp"
#include "kernel/cgroup_subtree.hpp"
#include "kernel/criu_service.hpp"
#include "kernel/files.hpp"
#include "ve/monitor.hpp"
#include "ve/proc_views.hpp"

#include <fcntl.h>
#include <csignal>
#include <sys/mount.h>
#include <unistd.h>

namespace ovz::detail {
namespace {

// The VE's root mounted where CRIU finds it (the mount point, in the host's namespace) for
// as long as the restore runs; the restored VE keeps its own copy of the mount.
class host_mounted_root {
 public:
  static result<host_mounted_root> mount(const std::vector<fs_step>& steps) {
    host_mounted_root r;
    for (const auto& s : steps) {
      int done;
      switch (s.what) {
        case fs_step::kind::mount:
          done = ::mount(s.source.c_str(), s.target.c_str(), s.fstype.c_str(), s.flags,
                         s.data.c_str());
          break;
        case fs_step::kind::attach:
          done = ::move_mount(s.fd, "", AT_FDCWD, s.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
          break;
        default:
          return fail(errc::unsupported, "restore: a root made by more than a mount ({})",
                      s.target);
      }
      if (done != 0) return sys_fail(errno, "mount the VE's root on {}", s.target);
      r.targets_.push_back(s.target);
    }
    return r;
  }
  host_mounted_root(host_mounted_root&& o) noexcept : targets_(std::move(o.targets_)) {
    o.targets_.clear();
  }
  ~host_mounted_root() {
    for (auto it = targets_.rbegin(); it != targets_.rend(); ++it)
      ::umount2(it->c_str(), MNT_DETACH);
  }

 private:
  host_mounted_root() = default;
  std::vector<std::string> targets_;
};

}  // namespace

result<void> criu_source::enable_controls() const {
  if (v2_dir_.empty()) return success();
  auto saved = read_file_at(images_.get(), controls_name, controls_name);
  if (!saved) {
    // A checkpoint of an older libovz, or of a VE whose cgroups enabled nothing.
    if (saved.error().sys_errno() == ENOENT) return success();
    return saved.error();
  }
  return enable_subtree_controls(v2_dir_, *saved);
}

result<process> criu_source::start(const ve_plan& plan, std::vector<fs_step> root_steps, int cgroup_fd,
                                   init_preparation prep) {
  // Held until the restore is done.
  auto root = host_mounted_root::mount(root_steps);
  if (!root) return root.error();
  const auto l = layout_of(state_root_, plan.id);
  BOOST_OUTCOME_TRY(console_listener, bind_console(l));
  unique_fd broker_listener;
  if (plan.confine.brokered()) {
    BOOST_OUTCOME_TRY(bound, bind_broker(l));
    broker_listener = std::move(bound);
  }
  std::optional<process> monitor;
  // CRIU runs as the monitor's child, so that the restored init, its sibling, is the
  // monitor's child as a started one is.
  auto launch = [&](int their_end, int output) -> result<void> {
    BOOST_OUTCOME_TRY(m, start_restoring_monitor(plan.monitor, plan.id, state_root_, their_end,
                                                 output));
    monitor = std::move(m);
    return success();
  };
  unique_fd master;
  pid_t waiting = 0;  // only setup-namespaces names it
  auto notify = [&](criu_notice& n) -> result<void> {
    // The init exists in its namespaces, waiting; the VE's devices are back once they are
    // set up, before any socket is restored.
    if (n.script == "setup-namespaces") {
      waiting = n.pid;
      return prep.admit(waiting);
    }
    if (n.script == "post-setup-namespaces") {
      // The init is in its own cgroup below the VE's and its children are not yet made:
      // no cgroup of the VE's holds a process, so each may enable controllers again.
      BOOST_OUTCOME_TRY(enable_controls());
      return prep.network(waiting);
    }
    if (n.script == "orphan-pts-master") master = std::move(n.fd);
    return success();
  };
  criu_restore_request r;
  r.images_dir = images_.get();
  r.log_file = "restore.log";
  r.root = plan.root.string();
  r.externals = externals_;
  r.cgroup_root = cgroup_;
  unique_fd conversation;
  auto pid = criu_restore(r, launch, notify, &conversation);
  if (!pid) {
    if (monitor) (void)monitor->signal(SIGKILL);
    return pid.error();
  }
  BOOST_OUTCOME_TRY(init, process::open(*pid));
  // Registered before the restored processes run on, through the file its monitor keeps.
  auto module = module_file_for(plan);
  auto registered = module ? register_init(module->get(), plan, *pid, cgroup_fd)
                           : result<void>(module.error());
  if (!registered) {
    (void)init.signal(SIGKILL);
    return registered.error();
  }
  auto handed = hand_restored_init(conversation.get(), *pid, master.get(), console_listener.get(),
                                   broker_listener.get(), module->get());
  if (!handed) {
    (void)init.signal(SIGKILL);
    return handed.error();
  }
  return init;
}

}  // namespace ovz::detail
