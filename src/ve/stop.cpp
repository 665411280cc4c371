#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/log_writer.hpp"
#include "model/layout.hpp"
#include "ve/live_state.hpp"
#include "ve/monitor.hpp"
#include "ve/ve_op.hpp"

#include <csignal>

namespace ovz::inline v0 {

result<void> ve::stop(const stop_options& opts) {
  std::optional<process> monitor;
  auto stopped = detail::ve_op::run(*this, {.lock = true, .live = true}, [&](detail::ve_op& op) -> result<void> {
    if (!op.live.init_pid) {
      // Not running, but a crash may have left a cgroup or stray processes: stop cleans them.
      BOOST_OUTCOME_TRY(detail::clean_up(op.host(), op.layout));
      return detail::fail(errc::not_running, "{} is not running", op.context());
    }
    // Found while init lives: once it has gone, its monitor lets it go to another parent.
    BOOST_OUTCOME_TRY(found, detail::monitor_of(op.live.init_pid));
    monitor = std::move(found);
    if (!opts.fast) {
      auto init = process::open(op.live.init_pid);
      if (!init && init.error().sys_errno() != ESRCH) return init.error();
      if (init) {
        BOOST_OUTCOME_TRY(init->signal(SIGTERM));
        BOOST_OUTCOME_TRY(init->wait_exit(opts.timeout));
      }
    }
    // What is left is killed through the cgroup, all at once (cgroup.kill on v2, frozen on
    // v1) rather than by PIDs that may be reused meanwhile; this also ends a VE a crashed stop
    // left frozen.
    return detail::clean_up(op.host(), op.layout);
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
