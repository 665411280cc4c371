// Suspending a VE: its cgroup frozen, sub-cgroups and all, by its cgroup manager. The freezer
// is the truth about it, as the cgroup is about running; a mark in the state root tells it
// from the brief freezes of a stop (cgroup v1's kill) and a checkpoint, and goes with the
// VE's clean-up.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "log.hpp"
#include "model/network.hpp"
#include "ve/locked_ops.hpp"
#include "ve/net_live.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>

namespace ovz::detail {

result<void> freeze_locked(ve_op& op, std::string_view doing) {
  auto frozen = op.cg().freeze(op.layout.cgroup);
  if (frozen) return success();
  // A task the freezer cannot stop (in uninterruptible sleep) leaves the others stopped
  // around it: a freeze that fails lets them all run on, as they were.
  logged(op.cg().thaw(op.layout.cgroup),
         fmt::format("{}: {}: thawing after the failed freeze", op.context(), doing));
  return with_context(frozen.error(), std::string(doing));
}

result<void> mark_suspended(const ve_op& op) {
  const auto& file = op.layout.suspend_mark;
  unique_fd made(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!made) return sys_fail(errno, "create {}", file.string());
  return success();
}

result<void> suspend_locked(ve_op& op) {
  BOOST_OUTCOME_TRY(freeze_locked(op, "suspend"));
  if (auto marked = mark_suspended(op); !marked) {
    logged(op.cg().thaw(op.layout.cgroup),
           fmt::format("{}: suspend: thawing after the failed mark", op.context()));
    return with_context(marked.error(), "suspend");
  }
  return success();
}

result<void> resume_locked(ve_op& op) {
  // A VE left suspended by a migration in doubt has its host side set aside: back first, so
  // that it runs reachable as before.
  BOOST_OUTCOME_TRY(conf, ve_config::load(op.layout.conf));
  BOOST_OUTCOME_TRY(net, network_from_config(conf));
  if (auto back = put_back_network(op.host(), op.id(), op.layout, net, op.live.init_pid); !back)
    return with_context(back.error(), "resume");
  auto thawed = op.cg().thaw(op.layout.cgroup);
  if (!thawed) return with_context(thawed.error(), "resume");
  return remove_file_if_any(op.layout.suspend_mark);
}

}  // namespace ovz::detail

namespace ovz::inline v0 {
namespace {

// `body(op)` on the running VE under its lock; errc::not_running when it is stopped.
template <class F>
result<void> on_running(const ve& v, F&& body) {
  return detail::ve_op::run(v, {.lock = true, .live = true},
                            [&](detail::ve_op& op) -> result<void> {
    if (!op.live.init_pid) return detail::fail(errc::not_running, "{} is not running", op.context());
    return body(op);
  });
}

}  // namespace

result<void> ve::suspend() {
  return on_running(*this, [](detail::ve_op& op) -> result<void> {
    if (op.live.frozen) return success();
    return detail::suspend_locked(op);
  });
}

result<void> ve::resume() {
  return on_running(*this, [](detail::ve_op& op) { return detail::resume_locked(op); });
}

}  // namespace ovz::inline v0
