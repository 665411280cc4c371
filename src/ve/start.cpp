#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/dirs.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"
#include "ve/devices.hpp"
#include "ve/limits.hpp"
#include "ve/lock.hpp"
#include "ve/net_live.hpp"
#include "ve/rootfs.hpp"
#include "ve/confine.hpp"
#include "ve/live_state.hpp"
#include "ve/ve_environment.hpp"
#include "ve/ve_namespaces.hpp"
#include "ve/userns.hpp"

namespace ovz::inline v0 {
namespace {

// An init that ends this soon after its exec did not come up (a systemd that cannot mount
// /run gives up at once); start says so, with its exit status, instead of succeeding.
constexpr std::chrono::milliseconds early_exit_window{100};

// Starts the VE's init; with `detach`, it is not the caller's child (a panel that starts VEs
// has no zombies to reap), otherwise the caller waits for it.
result<process> launch(const ve& v, const std::vector<std::string>& init, bool detach) {
  const auto ctx = fmt::format("VE {}", v.id().value());
  BOOST_OUTCOME_TRY(l, detail::locate(v.state_root(), v.id()));
  auto lock = detail::ve_lock::acquire(l, v.id());
  if (!lock) return lock.error();
  BOOST_OUTCOME_TRY(conf, v.config());
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  BOOST_OUTCOME_TRY(live, detail::probe(*cg, l));
  if (live.init_pid)
    return detail::fail(errc::already_running, "{} is already running (init PID {})", ctx,
                        live.init_pid);
  // Whatever a crashed run left (an empty cgroup, stray processes) goes first.
  if (cg->exists(l.cgroup)) {
    if (auto ok = detail::clean_up(*cg, l); !ok) return detail::with_context(ok.error(), ctx);
  }

  auto settings = params_from_config(conf);
  if (!settings) return detail::with_context(settings.error(), ctx);
  if (auto ok = check_bootable(*settings); !ok) return detail::with_context(ok.error(), ctx);
  // A new cgroup starts with every limit off: only what CTID.conf sets needs writing.
  const auto limits = detail::limits_for(*settings, detail::fields_for(*settings));

  auto tmpl_name = conf.get("OSTEMPLATE").value_or(builtin_template);
  auto tmpl = template_store(v.state_root()).find(tmpl_name);
  if (!tmpl) return detail::with_context(tmpl.error(), ctx);
  auto userns = detail::userns_range(conf);
  if (!userns) return detail::with_context(userns.error(), ctx);
  auto security = security_from_config(conf);
  if (!security) return detail::with_context(security.error(), ctx);
  auto devnodes = detail::resolve_devnodes(security->devnodes);
  if (!devnodes) return detail::with_context(devnodes.error(), ctx);
  const auto device_rules = detail::ve_device_rules(*devnodes);

  // A state root made by an older libovz has a private/ any host user may enter.
  if (auto ok = detail::make_root_only_dir(l.private_dir.parent_path()); !ok)
    return detail::with_context(ok.error(), ctx);
  std::error_code ec;
  for (const auto& dir : {l.mount_point, l.console_log.parent_path()}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return detail::sys_fail(ec.value(), "{}: create {}", ctx, dir.string());
  }
  spawn_spec spec;
  unique_fd userns_root;  // the VE's root, made by the host, until the init has attached it
  if (*userns) {
    auto root = detail::prepare_userns(spec, l, tmpl->path, **userns);
    if (!root) return detail::with_context(root.error(), ctx);
    userns_root = std::move(*root);
  }
  auto steps = detail::rootfs_steps(l, tmpl->path, userns_root.get(), detail::pty_limit(*settings));
  if (!steps) return detail::with_context(steps.error(), ctx);
  for (auto& s : detail::devnode_steps(l.mount_point.string() + "/dev", *devnodes, userns_root.get() >= 0))
    steps->push_back(std::move(s));
  spec.argv = init.empty() ? std::vector<std::string>{"/sbin/init"} : init;
  spec.env = detail::ve_environment();
  spec.namespaces.flags |= detail::ve_namespaces().flags;
  spec.hostname = conf.get("HOSTNAME").value_or("ct" + v.id().str());
  spec.fs = std::move(*steps);
  spec.new_root = l.mount_point;
  // Through a writer process with a cap, not the file itself: a VE process that reopens
  // /proc/1/fd/1 writes into the pipe, never into a host file it could grow without end.
  spec.log = {l.console_log, detail::console_log_max};
  if (detach) spec.settle = early_exit_window;
  spec.new_session = true;
  spec.detach = detach;
  if (auto ok = detail::confine(spec, conf); !ok) return detail::with_context(ok.error(), ctx);
  // The cgroup is made and limited first, so that init is born in it where the kernel can.
  auto held = [&]() -> result<detail::ve_cgroup> {
    BOOST_OUTCOME_TRY(made, cg->create(l.cgroup));
    BOOST_OUTCOME_TRY(cg->resources().apply(made, limits));
    BOOST_OUTCOME_TRY(cg->resources().allow_devices(made, device_rules));
    return made;
  }();
  if (!held) {
    (void)detail::clean_up(*cg, l);
    return detail::with_context(held.error(), ctx + ": start");
  }
  spec.cgroup_fd = cg->clone_fd(*held);
  spec.prepare = [&](pid_t pid) -> result<void> {
    BOOST_OUTCOME_TRY(cg->attach(*held, pid));
    return detail::start_network(v.id(), l, conf, pid);
  };
  auto init_proc = spawn(spec);
  if (!init_proc) {
    detail::logged(detail::clean_up(*cg, l), ctx + ": clean-up after the failed start");
    return detail::with_context(init_proc.error(), ctx + ": start");
  }
  return init_proc;
}

}  // namespace

result<void> ve::start(const start_options& opts) {
  BOOST_OUTCOME_TRY(launch(*this, opts.init, true));
  return success();
}

result<int> ve::run(const std::vector<std::string>& argv) {
  if (argv.empty()) return detail::fail(errc::invalid_argument, "VE {}: run: empty command", id_.value());
  BOOST_OUTCOME_TRY(init, launch(*this, argv, false));
  BOOST_OUTCOME_TRY(code, init.wait());
  BOOST_OUTCOME_TRY(l, detail::locate(root_, id_));
  auto lock = detail::ve_lock::acquire(l, id_);
  if (!lock) return lock.error();
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  if (auto ok = detail::clean_up(*cg, l); !ok)
    return detail::with_context(ok.error(), fmt::format("VE {}", id_.value()));
  return code;
}

}  // namespace ovz::inline v0
