#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/dirs.hpp"
#include "model/layout.hpp"
#include "ve/devices.hpp"
#include "ve/limits.hpp"
#include "ve/net_live.hpp"
#include "ve/rootfs.hpp"
#include "ve/confine.hpp"
#include "ve/live_state.hpp"
#include "ve/ve_environment.hpp"
#include "ve/ve_namespaces.hpp"
#include "ve/userns.hpp"
#include "ve/ve_op.hpp"

namespace ovz {
namespace {

// An init that ends this soon after its exec did not come up (a systemd that cannot mount
// /run gives up at once); start says so, with its exit status, instead of succeeding.
constexpr std::chrono::milliseconds early_exit_window{100};

constexpr detail::ve_op::needs starting{.lock = true, .config = true, .live = true};

// Starts the VE's init; with `detach`, it is not the caller's child (a panel that starts VEs
// has no zombies to reap), otherwise the caller waits for it.
result<process> launch(detail::ve_op& op, const std::vector<std::string>& init, bool detach) {
  const ve& v = op.handle();
  const auto& l = op.layout;
  const auto& conf = op.conf;
  if (op.live.init_pid)
    return detail::fail(errc::already_running, "{} is already running (init PID {})",
                        op.context(), op.live.init_pid);
  // Whatever a crashed run left (an empty cgroup, stray processes) goes first.
  if (op.cg().exists(l.cgroup)) {
    BOOST_OUTCOME_TRY(detail::clean_up(op.host(), l));
  }

  BOOST_OUTCOME_TRY(settings, params_from_config(conf));
  BOOST_OUTCOME_TRY(check_bootable(settings));
  // A new cgroup starts with every limit off: only what CTID.conf sets needs writing.
  const auto limits = detail::limits_for(settings, detail::fields_for(settings));

  auto tmpl_name = conf.get("OSTEMPLATE").value_or(builtin_template);
  BOOST_OUTCOME_TRY(tmpl, template_store(v.state_root()).find(tmpl_name));
  BOOST_OUTCOME_TRY(userns, detail::userns_range(conf));
  BOOST_OUTCOME_TRY(security, security_from_config(conf));
  BOOST_OUTCOME_TRY(devnodes, detail::resolve_devnodes(security.devnodes));
  const auto device_rules = detail::ve_device_rules(devnodes);

  // A state root made by an older libovz has a private/ any host user may enter.
  BOOST_OUTCOME_TRY(detail::make_root_only_dir(l.private_dir.parent_path()));
  std::error_code ec;
  for (const auto& dir : {l.mount_point, l.console_log.parent_path()}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return detail::sys_fail(ec.value(), "create {}", dir.string());
  }
  spawn_spec spec;
  unique_fd userns_root;  // the VE's root, made by the host, until the init has attached it
  if (userns) {
    BOOST_OUTCOME_TRY(root, detail::prepare_userns(spec, l, tmpl.path, *userns));
    userns_root = std::move(root);
  }
  BOOST_OUTCOME_TRY(steps, detail::rootfs_steps(l, tmpl.path, userns_root.get(),
                                                detail::pty_limit(settings)));
  for (auto& s : detail::devnode_steps(l.mount_point.string() + "/dev", devnodes, userns_root.get() >= 0))
    steps.push_back(std::move(s));
  spec.argv = init.empty() ? std::vector<std::string>{"/sbin/init"} : init;
  spec.env = detail::ve_environment();
  spec.namespaces.flags |= detail::ve_namespaces().flags;
  spec.hostname = conf.get("HOSTNAME").value_or("ct" + v.id().str());
  spec.fs = std::move(steps);
  spec.new_root = l.mount_point;
  // Through a writer process with a cap, not the file itself: a VE process that reopens
  // /proc/1/fd/1 writes into the pipe, never into a host file it could grow without end.
  spec.log = {l.console_log, detail::console_log_max};
  if (detach) spec.settle = early_exit_window;
  spec.new_session = true;
  spec.detach = detach;
  BOOST_OUTCOME_TRY(detail::confine(spec, conf));
  auto& cg = op.cg();
  spec.prepare = [&](pid_t pid) -> result<void> {
    BOOST_OUTCOME_TRY(cg.create(l.cgroup));
    BOOST_OUTCOME_TRY(cg.apply(l.cgroup, limits));
    BOOST_OUTCOME_TRY(cg.allow_devices(l.cgroup, device_rules));
    BOOST_OUTCOME_TRY(cg.attach(l.cgroup, pid));
    return detail::start_network(op.host(), v.id(), l, conf, pid);
  };
  auto init_proc = spawn(spec);
  if (!init_proc) {
    if (auto cleaned = detail::clean_up(op.host(), l); !cleaned)
      op.host().log(op.in_context(cleaned.error()).message());
    return detail::with_context(init_proc.error(), "start");
  }
  return init_proc;
}

}  // namespace

result<void> ve::start(const start_options& opts) {
  return detail::ve_op::run(*this, starting, [&](detail::ve_op& op) -> result<void> {
    BOOST_OUTCOME_TRY(launch(op, opts.init, true));
    return success();
  });
}

result<int> ve::run(const std::vector<std::string>& argv) {
  if (argv.empty()) return detail::fail(errc::invalid_argument, "VE {}: run: empty command", id_.value());
  BOOST_OUTCOME_TRY(init, detail::ve_op::run(*this, starting, [&](detail::ve_op& op) {
    return launch(op, argv, false);
  }));
  BOOST_OUTCOME_TRY(code, init.wait());
  return detail::ve_op::run(*this, {.lock = true}, [&](detail::ve_op& op) -> result<int> {
    BOOST_OUTCOME_TRY(detail::clean_up(op.host(), op.layout));
    return code;
  });
}

}  // namespace ovz
