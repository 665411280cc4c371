#include "ve/plan_apply.hpp"

#include "fail.hpp"
#include "log.hpp"
#include "kernel/cgroup_delegate.hpp"
#include "kernel/dirs.hpp"
#include "kernel/limits_mark.hpp"
#include "kernel/ns_thread.hpp"
#include "ve/live_state.hpp"
#include "ve/monitor.hpp"
#include "ve/net_live.hpp"
#include "ve/proc_views.hpp"
#include "ve/userns.hpp"
#include "ve/ve_tree.hpp"

#include <fcntl.h>

namespace ovz::detail {
namespace {

// Before init runs, which reads them (Debian's hostname.sh sets the name from /etc/hostname):
// through the root the host made for the VE (id-shifted for a VE in a user namespace).
result<void> write_plan_etc(const ve_plan& plan, const unique_fd& made) {
  unique_fd same(::fcntl(made.get(), F_DUPFD_CLOEXEC, 0));
  if (!same) return sys_fail(errno, "dup the VE's root");
  ve_tree tree{std::move(same), plan.userns ? plan.userns->root_uid().value_or(0) : 0};
  auto written = write_etc_files(tree, *plan.etc);
  if (!written) return with_context(written.error(), "writing the VE's /etc");
  return success();
}

}  // namespace

void place_in_plan(spawn_spec& spec, const ve_plan& plan, std::vector<fs_step> root_steps) {
  spec.namespaces = plan.namespaces;
  if (plan.userns) {
    spec.uid_map = plan.userns->uid_map;
    spec.gid_map = plan.userns->gid_map;
  }
  spec.hostname = plan.hostname;
  spec.fs = std::move(root_steps);
  spec.fs.insert(spec.fs.end(), plan.mounts.begin(), plan.mounts.end());
  spec.new_root = plan.root;
  spec.helper = spawn_helper();
}

result<process> spawn_source::start(const ve_plan& plan, std::vector<fs_step> root_steps,
                                    int cgroup_fd, init_preparation prep) {
  spawn_spec spec;
  spec.argv = plan.init;
  spec.env = plan.env;
  spec.cwd = plan.cwd;
  place_in_plan(spec, plan, std::move(root_steps));
  // Held until the spawn is done: the init attaches them.
  auto views = proc_view_trees(plan, spec.fs);
  if (!views) return views.error();
  spec.monitor = monitor_spec(plan.monitor, plan.id, state_root_, !detach_);
  const auto l = layout_of(state_root_, plan.id);
  BOOST_OUTCOME_TRY(console, bind_console(l));
  spec.monitor.fds = {console.get()};
  unique_fd broker;
  if (plan.confine.brokered()) {
    BOOST_OUTCOME_TRY(bound, bind_broker(l));
    broker = std::move(bound);
    spec.monitor.fds.push_back(broker.get());
  }
  // The init is registered with the ovz module through a file its monitor holds from then
  // on, before it runs: its first read of /proc sees its own numbers.
  BOOST_OUTCOME_TRY(module, module_file_for(plan));
  if (module) {
    spec.monitor.argv.push_back(
        fmt::format("--module-fd={}", monitor_first_extra_fd + spec.monitor.fds.size()));
    spec.monitor.fds.push_back(module.get());
  }
  spec.settle = settle_;
  spec.new_session = true;
  spec.detach = detach_;
  BOOST_OUTCOME_TRY(confine(spec, plan.confine));
  spec.cgroup_fd = cgroup_fd;
  spec.prepare = [prep = std::move(prep), &plan, module = module.get(),
                  cgroup_fd](pid_t pid) -> result<void> {
    BOOST_OUTCOME_TRY(prep.admit(pid));
    BOOST_OUTCOME_TRY(register_init(module, plan, pid, cgroup_fd));
    return prep.network(pid);
  };
  return spawn(spec);
}

result<process> apply_plan(const ve_plan& plan, const ve_layout& l, const host_services& h,
                           process_source& source) {
  // A state root made by an older libovz has a private/ any host user may enter.
  BOOST_OUTCOME_TRY(make_root_only_dir(l.private_dir.parent_path()));
  std::error_code ec;
  for (const auto& dir : {plan.root, plan.console.parent_path()}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return sys_fail(ec.value(), "create {}", dir.string());
  }
  // The VE's root, made by the host as a detached mount (id-shifted for a VE in a user
  // namespace) and held until the init has attached it at its mount point: the /etc files are
  // written through the same mount, and the init mounts nothing of its storage itself. An
  // overlay's mount is the slowest step before the clone: it is made on a thread of its own
  // while this one makes the cgroup.
  background<unique_fd> root("make the VE's root", [&]() -> result<unique_fd> {
    if (plan.userns) {
      BOOST_OUTCOME_TRY(check_reachable(plan.root, *plan.userns));
    }
    if (plan.userns && plan.userns->shifted)
      return userns_root(l, *plan.storage, *plan.userns->shifted);
    return plan.storage->host_root();
  });
  cgroup_manager& cg = h.cg();
  auto failed = [&](const error& e) {
    logged(clean_up(h, l), fmt::format("VE {}: clean-up after the failed start", plan.id.value()));
    return with_context(e, "start");
  };
  // An init that ended in its first moments usually said why on its console.
  const auto console_start = console_size(l);
  auto failed_init = [&](const error& e) {
    auto tail = console_tail(l, console_start);
    if (tail.empty()) return failed(e);
    return failed(error(e.code(), fmt::format("{}; the end of its console ({}):\n{}",
                                              e.message(), l.console_log.string(), tail)));
  };
  // The cgroup is made and limited before init runs: before the spawn where the manager can
  // (init is born in it), else around the init while it waits to be released.
  auto birth = cg.begin(plan.cgroup, [&](const ve_cgroup& made) -> result<void> {
    // Where init is in the cgroup already, a reader may have read its limits before these.
    BOOST_OUTCOME_TRY(write_limits(cg.resources(), made, plan.limits));
    BOOST_OUTCOME_TRY(cg.resources().allow_devices(made, plan.device_rules));
    BOOST_OUTCOME_TRY(cg.resources().write_files(made, plan.cgroup_files));
    // Its root manages what is below its cgroup (systemd inside does), as root of a VE
    // without a user namespace may.
    const auto uid = plan.userns ? plan.userns->root_uid() : std::nullopt;
    const auto gid = plan.userns ? plan.userns->root_gid() : std::nullopt;
    if (uid && gid) {
      BOOST_OUTCOME_TRY(delegate_cgroup(made, *uid, *gid));
    }
    return success();
  });
  auto made = root.get();
  if (!made) return failed(made.error());
  if (!birth) return failed(birth.error());
  if (plan.etc) {
    if (auto written = write_plan_etc(plan, *made); !written) return failed(written.error());
  }
  std::vector<fs_step> root_steps(1);
  root_steps[0].what = fs_step::kind::attach;
  root_steps[0].target = plan.root.string();
  root_steps[0].fd = made->get();
  init_preparation prep;
  prep.admit = [&](pid_t pid) { return birth->admit(pid); };
  prep.network = [&](pid_t pid) {
    if (source.restores_network()) return adopt_network(h, plan.id, l, plan.network, pid);
    return start_network(h, plan.id, l, plan.network, pid);
  };
  auto init = source.start(plan, std::move(root_steps), birth->clone_fd(), std::move(prep));
  if (!init) return failed_init(init.error());
  // Its root's quota tools need the monitor to answer their quotactl calls.
  if (plan.confine.brokered()) {
    if (auto shown = plan.storage->show_quota_device(init->pid()); !shown)
      return failed(shown.error());
  }
  return init;
}

}  // namespace ovz::detail
