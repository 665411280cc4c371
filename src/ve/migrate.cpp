// The sending side of a migration: the VE brought to rest (stopped, or checkpointed when
// online), its files sent (migration_stream), and removed here once the other side runs it;
// run again here from where it rested when anything fails before that.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/criu_service.hpp"
#include "ve/locked_ops.hpp"
#include "ve/migration_stream.hpp"
#include "ve/migration_hello.hpp"
#include "ve/ve_op.hpp"

namespace ovz::detail {
namespace {

// The VE brought to rest as `how` says; it ran before.
result<void> bring_to_rest(ve_op& op, run_there how) {
  if (how == run_there::restore) {
    BOOST_OUTCOME_TRY(checkpoint_locked(op, op.layout.dump, {}));
  } else if (how == run_there::start) {
    std::optional<process> monitor;
    BOOST_OUTCOME_TRY(stop_locked(op, {}, monitor));
  }
  op.live = {};
  return success();
}

// The VE run here again as it ran before it was brought to rest: `e` (what failed) says so,
// or also why that failed.
error run_again(ve_op& op, run_there how, const error& e) {
  if (how == run_there::no) return e;
  auto again = how == run_there::restore ? restore_locked(op, op.layout.dump)
                                         : start_locked(op, {});
  if (!again)
    return error(e.code(), fmt::format("{}; and it could not be run here again: {}",
                                       e.message(), again.error().message()));
  return error(e.code(), fmt::format("{}; it runs here again", e.message()));
}

result<void> send_files(ve_op& op, int fd, run_there how) {
  BOOST_OUTCOME_TRY(send(fd, mig::file, op.conf.serialize()));
  BOOST_OUTCOME_TRY(send_tree(fd, "private", op.layout.private_dir));
  if (how == run_there::restore) {
    BOOST_OUTCOME_TRY(send_tree(fd, "dump", op.layout.dump));
  }
  BOOST_OUTCOME_TRY(send(fd, mig::done));
  BOOST_OUTCOME_TRY(expect(fd, mig::ok, "the VE's start there"));
  return success();
}

result<void> send_ve(ve_op& op, int fd, const migrate_options& opts) {
  const auto how = !op.live.init_pid ? run_there::no
                   : opts.online     ? run_there::restore
                                     : run_there::start;
  if (how == run_there::restore) {
    BOOST_OUTCOME_TRY(criu_kernel_check());
  }
  BOOST_OUTCOME_TRY(hello, hello_of(op, how));
  // Nothing here changes before the other side said it can take the VE.
  BOOST_OUTCOME_TRY(send(fd, mig::hello, hello.serialize()));
  BOOST_OUTCOME_TRY(expect(fd, mig::ready, "the other side's answer to the VE's hello"));
  if (auto rested = bring_to_rest(op, how); !rested) {
    (void)send(fd, mig::error, rested.error().message());
    return rested.error();
  }
  if (auto sent = send_files(op, fd, how); !sent) {
    (void)send(fd, mig::error, sent.error().message());
    return run_again(op, how, sent.error());
  }
  // It runs there: nothing of it stays here.
  return destroy_locked(op);
}

}  // namespace
}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::migrate(int fd, const migrate_options& opts) {
  return detail::ve_op::run(*this, {.lock = true, .config = true, .live = true},
                            [&](detail::ve_op& op) -> result<void> {
                              auto sent = detail::send_ve(op, fd, opts);
                              if (!sent) return detail::with_context(sent.error(), "migrate");
                              return sent;
                            });
}

}  // namespace ovz::inline v0
