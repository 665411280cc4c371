// The sending side of a migration: the VE brought to rest (stopped, or checkpointed when
// online), its files sent (migration_stream), and removed here once the other side runs it;
// run again here from where it rested when anything fails before that.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/criu_service.hpp"
#include "kernel/log_writer.hpp"
#include "ve/locked_ops.hpp"
#include "ve/migration_stream.hpp"
#include "ve/migration_hello.hpp"
#include "ve/ve_op.hpp"

#include <sys/stat.h>

namespace ovz::detail {
namespace {

// The VE brought to rest as `how` says; it ran before. A checkpoint goes on from `chain`;
// a stop leaves its monitor in `monitor`, to be waited for once the lock is let go.
result<void> bring_to_rest(ve_op& op, run_there how, const dump_chain& chain,
                           std::optional<process>& monitor) {
  if (how == run_there::restore) {
    BOOST_OUTCOME_TRY(checkpoint_locked(op, op.layout.dump, {}, chain));
  } else if (how == run_there::start) {
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

// P.Haul's rules for when pre-dumps stop: what one wrote is little enough to copy frozen,
// or no less than the one before wrote (the VE dirties memory as fast as it is copied), or
// there were enough of them.
constexpr std::uint64_t few_bytes = 64 * 4096;
constexpr int max_pre_dumps = 8;

// The files of a VE at rest and the end of them.
result<void> send_rest(ve_op& op, int fd, run_there how) {
  if (how == run_there::restore) {
    BOOST_OUTCOME_TRY(send_tree(fd, "private-delta", op.layout.private_dir,
                                op.layout.pre_dumps / "private.snar"));
    BOOST_OUTCOME_TRY(send_tree(fd, "dump", op.layout.dump));
  } else {
    BOOST_OUTCOME_TRY(send_tree(fd, "private", op.layout.private_dir));
  }
  return send(fd, mig::done);
}

// Once done is sent the other side may run the VE: only its ok or its error says whether
// it does. Without either, running it here again could make two of it (the same addresses,
// the same disk contents diverging), so it stays at rest here and the user decides
// (vzmigrate's rule).
result<void> await_answer(ve_op& op, int fd, run_there how) {
  auto f = read_frame(fd, 1 << 20, "the other side's answer to done");
  if (f && static_cast<mig>(f->type) == mig::ok) return success();
  if (f && static_cast<mig>(f->type) == mig::error) {
    return run_again(op, how, fail(errc::peer_failed, "the other side: {}", f->payload));
  }
  const std::string why = f ? fmt::format("a frame of type {} came", f->type)
                            : f.error().message();
  const std::string rest =
      how == run_there::restore ? fmt::format("checkpointed in {} (ovzctl restore {})",
                                              op.layout.dump.string(), op.id().value())
      : how == run_there::start ? fmt::format("stopped (ovzctl start {})", op.id().value())
                                : std::string("stopped");
  return fail(errc::in_doubt,
              "VE {} was sent, and the other side's answer never came ({}): it may run there. "
              "It is left here {}; run it here only if it does not run there, else destroy "
              "it here",
              op.id().value(), why, rest);
}

// Online, while the VE runs: its private area, then pre-dumps of its memory, each sent as it
// is written, until P.Haul's rules stop them. The number of the last.
result<int> send_while_running(ve_op& op, int fd) {
  const auto& pre = op.layout.pre_dumps;
  std::error_code ec;
  std::filesystem::remove_all(pre, ec);
  std::filesystem::create_directories(pre.parent_path(), ec);
  if (::mkdir(pre.c_str(), 0700) != 0) return sys_fail(errno, "mkdir {}", pre.string());
  // The VE runs on meanwhile: what changes under tar goes again in private-delta.
  BOOST_OUTCOME_TRY(send_tree(fd, "private-base", op.layout.private_dir, pre / "private.snar",
                              tree_state::in_use));
  std::uint64_t before = 0;
  int n = 0;
  for (;;) {
    ++n;
    const dump_chain chain{n == 1 ? "" : fmt::format("../{}", n - 1), true};
    BOOST_OUTCOME_TRY(wrote, predump_locked(op, pre / std::to_string(n), chain));
    BOOST_OUTCOME_TRY(send_tree(fd, fmt::format("pre/{}", n), pre / std::to_string(n)));
    if (wrote < few_bytes || (n > 1 && wrote >= before) || n == max_pre_dumps) return n;
    before = wrote;
  }
}

result<void> send_ve(ve_op& op, int fd, const migrate_options& opts,
                     std::optional<process>& monitor) {
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
  BOOST_OUTCOME_TRY(send(fd, mig::file, op.conf.serialize()));
  // The pre-dumps are the move's alone: gone whatever happens.
  struct pre_dumps_removed {
    const ve_layout& l;
    bool keep = false;
    ~pre_dumps_removed() {
      std::error_code ec;
      if (!keep) std::filesystem::remove_all(l.pre_dumps, ec);
    }
  } removed{op.layout};
  // Not to a side that failed or spoke out of turn: it may have stopped reading.
  auto told = [&](const error& e) {
    if (!e.is(errc::peer_failed)) (void)send(fd, mig::error, e.message());
    return e;
  };
  dump_chain chain;
  if (how == run_there::restore) {
    auto last = send_while_running(op, fd);
    if (!last) return told(last.error());
    chain = {fmt::format("../{}/{}", op.layout.pre_dumps.filename().string(), *last), true};
  }
  if (auto rested = bring_to_rest(op, how, chain, monitor); !rested) return told(rested.error());
  if (auto sent = send_rest(op, fd, how); !sent) {
    (void)told(sent.error());
    return run_again(op, how, sent.error());
  }
  if (auto answered = await_answer(op, fd, how); !answered) {
    // The checkpoint rests on the pre-dumps it was written after: both stay.
    if (answered.error().is(errc::in_doubt)) removed.keep = true;
    return answered.error();
  }
  // It runs there: nothing of it stays here.
  return destroy_locked(op);
}

}  // namespace
}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::migrate(int fd, const migrate_options& opts) {
  std::optional<process> monitor;
  auto moved = detail::ve_op::run(*this, {.lock = true, .config = true, .live = true},
                                  [&](detail::ve_op& op) -> result<void> {
                                    auto sent = detail::send_ve(op, fd, opts, monitor);
                                    if (!sent)
                                      return detail::with_context(sent.error(), "migrate");
                                    return sent;
                                  });
  // As after ve::stop: the stopped VE's monitor ends once it can take the lock.
  if (monitor) detail::finish_writer(*monitor);
  return moved;
}

}  // namespace ovz::inline v0
