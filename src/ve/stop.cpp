#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/init_control.hpp"
#include "kernel/log_writer.hpp"
#include "log.hpp"
#include "model/layout.hpp"
#include "model/shutdown.hpp"
#include "ve/live_state.hpp"
#include "ve/monitor.hpp"
#include "ve/locked_ops.hpp"
#include "ve/ve_op.hpp"

#include <csignal>

namespace ovz::inline v0 {
namespace {

// The signal that stands for `request`; none for the initctl request.
int signal_for(detail::shutdown_request request) {
  switch (request) {
    case detail::shutdown_request::sigrtmin_plus_3: return SIGRTMIN + 3;
    case detail::shutdown_request::sigusr2: return SIGUSR2;
    case detail::shutdown_request::initctl_runlevel_0: return 0;
    case detail::shutdown_request::sigterm: break;
  }
  return SIGTERM;
}

// Asks init to shut down as model/shutdown.hpp decides. What cannot be read or written of it
// (it is exiting, its /proc is gone) falls back to SIGTERM: the timeout and the kill follow
// whatever happens here.
result<void> ask_to_shut_down(const detail::ve_op& op, const process& init) {
  auto request = detail::shutdown_request::sigterm;
  auto proc = detail::open_init_proc(init.pid(), init.pidfd());
  if (proc) {
    if (auto id = detail::identify_init(proc.value().get())) {
      request = detail::shutdown_request_for(detail::classify_init(id->exe, id->comm));
    }
  }
  if (request == detail::shutdown_request::initctl_runlevel_0) {
    auto sent = detail::write_initctl(proc.value().get(), detail::initreq_runlevel('0'));
    if (sent && sent.value()) return success();
    if (!sent) {
      detail::log_error(log_level::warning,
                        fmt::format("{}: asking sysvinit for runlevel 0", op.context()),
                        sent.error());
    } else {
      detail::log(log_level::info, fmt::format("{}: init reads no /run/initctl: SIGTERM instead",
                                               op.context()));
    }
    request = detail::shutdown_request::sigterm;
  }
  return init.signal(signal_for(request));
}

// The caller's timeout, else CTID.conf's STOP_TIMEOUT, else the default. A stop goes on with
// the default when CTID.conf cannot be read or its value is bad (said in the log): stopping
// must not depend on a config file being right.
std::chrono::milliseconds stop_timeout(const detail::ve_op& op, const stop_options& opts) {
  if (opts.timeout) return *opts.timeout;
  auto conf = op.handle().config();
  if (!conf) return detail::default_stop_timeout;
  auto timeout = detail::parse_stop_timeout(conf->get("STOP_TIMEOUT"));
  if (!timeout) {
    detail::log_error(log_level::warning,
                      fmt::format("{}: stopping with {} s", op.context(),
                                  detail::default_stop_timeout.count()),
                      timeout.error());
    return detail::default_stop_timeout;
  }
  return timeout.value();
}

}  // namespace
}  // namespace ovz::inline v0

namespace ovz::detail {

result<void> stop_locked(ve_op& op, const stop_options& opts, std::optional<process>& monitor) {
  if (!op.live.init_pid) {
    // Not running, but a crash may have left a cgroup or stray processes: stop cleans them.
    BOOST_OUTCOME_TRY(detail::clean_up(op.host(), op.layout));
    return detail::fail(errc::not_running, "{} is not running", op.context());
  }
  // Found while init lives: once it has gone, its monitor lets it go to another parent.
  BOOST_OUTCOME_TRY(found, detail::monitor_of(op.live.init_pid));
  monitor = std::move(found);
  // A suspended VE is resumed first, so that its init can hear the request and shut down
  // as it would have.
  if (op.live.frozen) {
    BOOST_OUTCOME_TRY(op.cg().thaw(op.layout.cgroup));
  }
  if (!opts.fast) {
    auto init = process::open(op.live.init_pid);
    if (!init && init.error().sys_errno() != ESRCH) return init.error();
    if (init) {
      BOOST_OUTCOME_TRY(ask_to_shut_down(op, *init));
      BOOST_OUTCOME_TRY(init->wait_exit(stop_timeout(op, opts)));
    }
  }
  // What is left is killed through the cgroup, all at once (cgroup.kill on v2, frozen on
  // v1) rather than by PIDs that may be reused meanwhile; this also ends a VE a crashed stop
  // left frozen.
  return detail::clean_up(op.host(), op.layout);
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::stop(const stop_options& opts) {
  std::optional<process> monitor;
  auto stopped = detail::ve_op::run(*this, {.lock = true, .live = true}, [&](detail::ve_op& op) {
    return detail::stop_locked(op, opts, monitor);
  });
  // The VE's last output (its shutdown messages) is in the log when stop returns. Waited for
  // without the lock, which the monitor takes to see that nothing is left to clean up.
  if (monitor) detail::finish_writer(*monitor);
  return stopped;
}

result<void> ve::restart(const stop_options& stop_opts, const start_options& start_opts) {
  if (auto stopped = stop(stop_opts); !stopped && !stopped.error().is(errc::not_running))
    return stopped.error();
  return start(start_opts);
}

}  // namespace ovz::inline v0
