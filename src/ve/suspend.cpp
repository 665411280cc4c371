// Suspending a VE: its cgroup frozen, sub-cgroups and all, by its cgroup manager. The freezer
// is the truth about it, as the cgroup is about running; a mark in the state root tells it
// from the brief freezes of a stop (cgroup v1's kill) and a checkpoint, and goes with the
// VE's clean-up.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "log.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>

namespace ovz::inline v0 {
namespace {

// `body(op)` on the running VE under its lock; errc::not_running when it is stopped.
template <class F>
result<void> on_running(const ve& v, F&& body) {
  return detail::ve_op::run(v, {.lock = true, .live = true}, [&](detail::ve_op& op) -> result<void> {
    if (!op.live.init_pid) return detail::fail(errc::not_running, "{} is not running", op.context());
    return body(op);
  });
}

result<void> mark(const std::filesystem::path& file) {
  unique_fd made(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!made) return detail::sys_fail(errno, "create {}", file.string());
  return success();
}

}  // namespace

result<void> ve::suspend() {
  return on_running(*this, [](detail::ve_op& op) -> result<void> {
    if (op.live.frozen) return success();
    auto frozen = op.cg().freeze(op.layout.cgroup);
    if (!frozen) {
      // A task the freezer cannot stop (in uninterruptible sleep) leaves the others stopped
      // around it: a suspend that fails lets them all run on, as they were.
      detail::logged(op.cg().thaw(op.layout.cgroup),
                     fmt::format("{}: suspend: thawing after the failed freeze", op.context()));
      return detail::with_context(frozen.error(), "suspend");
    }
    if (auto marked = mark(op.layout.suspend_mark); !marked) {
      detail::logged(op.cg().thaw(op.layout.cgroup),
                     fmt::format("{}: suspend: thawing after the failed mark", op.context()));
      return detail::with_context(marked.error(), "suspend");
    }
    return success();
  });
}

result<void> ve::resume() {
  return on_running(*this, [](detail::ve_op& op) -> result<void> {
    auto thawed = op.cg().thaw(op.layout.cgroup);
    if (!thawed) return detail::with_context(thawed.error(), "resume");
    return detail::remove_file_if_any(op.layout.suspend_mark);
  });
}

}  // namespace ovz::inline v0
