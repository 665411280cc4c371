#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/layout.hpp"
#include "ve/lock.hpp"
#include "ve/runtime.hpp"

#include <csignal>

namespace ovz {

result<void> ve::stop(const stop_options& opts) {
  const auto ctx = fmt::format("VE {}", id_.value());
  auto l = detail::layout_of(root_, id_);
  auto lock = detail::ve_lock::acquire(l, id_);
  if (!lock) return lock.error();
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  BOOST_OUTCOME_TRY(live, detail::probe(*cg, l));
  if (!live.init_pid) {
    // Not running, but a crash may have left a cgroup or stray processes: stop cleans them.
    if (auto ok = detail::clean_up(*cg, l); !ok) return detail::with_context(ok.error(), ctx);
    return detail::fail(errc::not_running, "{} is not running", ctx);
  }
  auto init = process::open(live.init_pid);
  if (init) {
    bool exited = false;
    if (!opts.fast) {
      BOOST_OUTCOME_TRY(init->signal(SIGTERM));
      BOOST_OUTCOME_TRY(polite, init->wait_exit(opts.timeout));
      exited = polite;
    }
    // SIGKILL to the init of a PID namespace kills every process in it.
    if (!exited) {
      BOOST_OUTCOME_TRY(init->signal(SIGKILL));
      BOOST_OUTCOME_TRY(killed, init->wait_exit(std::chrono::seconds(10)));
      if (!killed)
        return detail::fail(errc::timed_out, "{}: init PID {} survived SIGKILL for 10 s", ctx,
                            live.init_pid);
    }
  } else if (init.error().sys_errno() != ESRCH) {
    return detail::with_context(init.error(), ctx);
  }
  if (auto ok = detail::clean_up(*cg, l); !ok) return detail::with_context(ok.error(), ctx);
  return success();
}

result<void> ve::restart(const stop_options& stop_opts, const start_options& start_opts) {
  if (auto stopped = stop(stop_opts); !stopped && !stopped.error().is(errc::not_running))
    return stopped.error();
  return start(start_opts);
}

}  // namespace ovz
