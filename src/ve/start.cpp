#include <ovz/ve.hpp>

#include "fail.hpp"
#include "ve/live_state.hpp"
#include "ve/plan.hpp"
#include "ve/plan_apply.hpp"
#include "ve/proc_views.hpp"
#include "ve/locked_ops.hpp"
#include "ve/ve_op.hpp"

namespace ovz::inline v0 {
namespace {

// An init that ends before it first waits for something (its children, a signal) did not come
// up (a systemd that cannot mount /run gives up at once); start says so, with its exit status,
// instead of succeeding. Start returns once it waits, or after this long if it never does: a
// bound, not a delay, wide enough for a cold start under emulation on a loaded host (a tenth of
// a second was not).
constexpr std::chrono::milliseconds early_exit_window{2000};

constexpr detail::ve_op::needs starting{.lock = true, .config = true, .live = true};

// Starts the VE's init; with `detach`, it is not the caller's child (a panel that starts VEs
// has no zombies to reap), otherwise the caller waits for it.
result<process> launch(detail::ve_op& op, const std::vector<std::string>& init, bool detach) {
  if (op.live.init_pid)
    return detail::fail(errc::already_running, "{} is already running (init PID {})",
                        op.context(), op.live.init_pid);
  // Whatever a crashed run left (an empty cgroup, stray processes) goes first.
  if (op.cg().exists(op.layout.cgroup)) {
    BOOST_OUTCOME_TRY(detail::clean_up(op.host(), op.layout));
  }
  BOOST_OUTCOME_TRY(inputs, detail::gather_plan_inputs(op.conf, op.layout, op.state_root()));
  BOOST_OUTCOME_TRY(plan, detail::plan_for(op.conf, op.layout, inputs, init));
  detail::spawn_source source(detach, detach ? early_exit_window : std::chrono::milliseconds{0},
                              op.state_root());
  // Mounted for the init's binds only: they keep ovzproc once they are made.
  std::optional<detail::proc_views_mount> views;
  if (plan.proc_views.mounted_per_start()) {
    BOOST_OUTCOME_TRY(mounted, detail::proc_views_mount::mount(plan.proc_views.dir));
    views.emplace(std::move(mounted));
  }
  return detail::apply_plan(plan, op.layout, op.host(), source);
}

}  // namespace
}  // namespace ovz::inline v0

namespace ovz::detail {

result<void> start_locked(ve_op& op, const start_options& opts) {
  BOOST_OUTCOME_TRY(launch(op, opts.init, true));
  return success();
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::start(const start_options& opts) {
  return detail::ve_op::run(*this, starting,
                            [&](detail::ve_op& op) { return detail::start_locked(op, opts); });
}

result<std::string> ve::plan(const start_options& opts) const {
  return detail::ve_op::run(*this, {.config = true}, [&](detail::ve_op& op) -> result<std::string> {
    BOOST_OUTCOME_TRY(inputs, detail::gather_plan_inputs(op.conf, op.layout, op.state_root()));
    BOOST_OUTCOME_TRY(plan, detail::plan_for(op.conf, op.layout, inputs, opts.init));
    return detail::to_text(plan);
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

}  // namespace ovz::inline v0
