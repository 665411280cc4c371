// The sending side of a migration: the VE's files sent (migration_stream) and the VE removed
// here once the other side runs it. Offline it is stopped first and started again here when
// anything fails before that; online it runs on while its memory goes in pre-dumps, and its
// final dump is the hand-over (hand_over): the same processes run on here when it fails.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/criu_service.hpp"
#include "kernel/log_writer.hpp"
#include "model/network.hpp"
#include "ve/locked_ops.hpp"
#include "ve/migration_stream.hpp"
#include "ve/migration_hello.hpp"
#include "ve/net_live.hpp"
#include "ve/page_relay.hpp"
#include "ve/ve_op.hpp"

#include <sys/stat.h>

namespace ovz::detail {
namespace {

// The VE run here again after a stop for the move: `e` (what failed) says so, or also why
// that failed.
error run_again(ve_op& op, run_there how, const error& e) {
  if (how == run_there::no) return e;
  auto again = start_locked(op, {});
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

// The files of a VE at rest and the end of them: online, the private area's changes and the
// final dump's `images`; else the private area.
result<void> send_rest(ve_op& op, const stream_end& s, const std::filesystem::path& images) {
  if (!images.empty()) {
    BOOST_OUTCOME_TRY(send_tree(s, "private-delta", op.layout.private_dir,
                                op.layout.pre_dumps / "private.snar"));
    BOOST_OUTCOME_TRY(send_tree(s, "dump", images));
  } else {
    BOOST_OUTCOME_TRY(send_tree(s, "private", op.layout.private_dir));
  }
  return send(s, mig::done);
}

// Once done is sent the other side may run the VE: only its ok or its error
// (errc::peer_failed) says whether it does. errc::in_doubt when neither came.
result<void> answer_to_done(const stream_end& s) {
  auto f = read_frame(s, 1 << 20, "the other side's answer to done");
  if (f && static_cast<mig>(f->type) == mig::ok) return success();
  if (f && static_cast<mig>(f->type) == mig::error)
    return fail(errc::peer_failed, "the other side: {}", f->payload);
  return fail(errc::in_doubt, "{}", f ? fmt::format("a frame of type {} came", f->type)
                                      : f.error().message());
}

// Without the other side's answer, running the VE here again could make two of it (the same
// addresses, the same disk contents diverging): it stays as `left` says, and the user
// decides (vzmigrate's rule).
error in_doubt(const ve_op& op, const error& why, std::string_view left) {
  return fail(errc::in_doubt,
              "VE {} was sent, and the other side's answer never came ({}): it may run there. "
              "It is left here {}; run it here only if it does not run there, else destroy "
              "it here",
              op.id().value(), why.message(), left);
}

// Online, while the VE runs: its private area, then pre-dumps of its memory, each sent as it
// is written, until P.Haul's rules stop them. The number of the last.
result<int> send_while_running(ve_op& op, const stream_end& s) {
  const auto& pre = op.layout.pre_dumps;
  std::error_code ec;
  std::filesystem::remove_all(pre, ec);
  std::filesystem::create_directories(pre.parent_path(), ec);
  if (::mkdir(pre.c_str(), 0700) != 0) return sys_fail(errno, "mkdir {}", pre.string());
  // The VE runs on meanwhile: what changes under tar goes again in private-delta.
  BOOST_OUTCOME_TRY(send_tree(s, "private-base", op.layout.private_dir, pre / "private.snar",
                              tree_state::in_use));
  std::uint64_t before = 0;
  int n = 0;
  for (;;) {
    ++n;
    const auto name = fmt::format("pre/{}", n);
    const auto dir = pre / std::to_string(n);
    BOOST_OUTCOME_TRY(relay, page_relay::open(s, name));
    const dump_chain chain{n == 1 ? "" : fmt::format("../{}", n - 1), true, relay.socket()};
    auto dumped = predump_locked(op, dir, chain);
    // A broken session is why a dump fails that lost its page server.
    BOOST_OUTCOME_TRY(wrote, relay.finish());
    if (!dumped) return dumped.error();
    // The rest of its images, beside the memory there.
    BOOST_OUTCOME_TRY(send_tree(s, name, dir));
    if (wrote < few_bytes || (n > 1 && wrote >= before) || n == max_pre_dumps) return n;
    before = wrote;
  }
}

// Tells the other side why the move ends, unless it said so itself (it may have stopped
// reading) or its answer to done is what is missing.
error told(const stream_end& s, const error& e) {
  if (!e.is(errc::peer_failed) && !e.is(errc::in_doubt)) (void)send(s, mig::error, e.message());
  return e;
}

// Online, the end: the VE frozen and dumped after its last pre-dump, and inside the dump,
// once every image is written while CRIU still holds the processes and the VE's network is
// locked (post-dump), its host side set aside, its files sent and the other side's answer
// awaited. ok: CRIU ends the processes here. Anything else: CRIU lets them go, still frozen
// (it found them frozen), so the same processes run on here once their host side is back —
// or, in doubt, stay frozen and cut off for the user to resume or destroy.
result<void> hand_over(ve_op& op, const stream_end& s, dump_chain chain) {
  BOOST_OUTCOME_TRY(net, network_from_config(op.conf));
  auto relay = page_relay::open(s, "dump");
  if (!relay) return told(s, relay.error());
  if (auto frozen = freeze_locked(op, "migrate"); !frozen) {
    (void)relay->finish();
    return told(s, frozen.error());
  }
  chain.page_server = relay->socket();
  std::optional<error> said;  // the hand-over's own failure, unwrapped
  auto handed = checkpoint_locked(
      op, op.layout.dump, {}, chain, [&](const std::filesystem::path& images) -> result<void> {
        // CRIU has had the page server's final word: the stream is the conversation's again.
        result<void> over = success();
        if (auto paged = relay->finish(); !paged) over = paged.error();
        if (over) over = set_aside_network(op.host(), op.layout, net);
        if (over) over = send_rest(op, s, images);
        if (over) over = answer_to_done(s);
        if (!over) said = over.error();
        return over;
      });
  // It runs there: nothing of it stays here.
  if (handed) {
    op.live = {};
    return destroy_locked(op);
  }
  auto paged = relay->finish();
  const error e = told(s, said ? *said : !paged ? paged.error() : handed.error());
  if (e.is(errc::in_doubt)) {
    // Still frozen, as CRIU left it: only the mark is missing. Never thawed here, whatever
    // fails: it may run there.
    if (auto marked = mark_suspended(op); !marked)
      return error(e.code(), fmt::format("{}; and marking it suspended failed: {}",
                                         in_doubt(op, e, "frozen").message(),
                                         marked.error().message()));
    return in_doubt(op, e, fmt::format("suspended, its network cut off here (ovzctl resume {})",
                                       op.id().value()));
  }
  auto again = put_back_network(op.host(), op.id(), op.layout, net, op.live.init_pid);
  if (again) again = op.cg().thaw(op.layout.cgroup);
  if (!again)
    return error(e.code(), fmt::format("{}; and it could not be run here again: {}",
                                       e.message(), again.error().message()));
  return error(e.code(), fmt::format("{}; it runs here again", e.message()));
}

result<void> send_ve(ve_op& op, const stream_end& s, const migrate_options& opts,
                     std::optional<process>& monitor) {
  const auto how = !op.live.init_pid ? run_there::no
                   : opts.online     ? run_there::restore
                                     : run_there::start;
  if (how == run_there::restore) {
    BOOST_OUTCOME_TRY(criu_kernel_check());
  }
  BOOST_OUTCOME_TRY(hello, hello_of(op, how));
  // Nothing here changes before the other side said it can take the VE.
  BOOST_OUTCOME_TRY(send(s, mig::hello, hello.serialize()));
  BOOST_OUTCOME_TRY(expect(s, mig::ready, "the other side's answer to the VE's hello"));
  BOOST_OUTCOME_TRY(send(s, mig::file, op.conf.serialize()));
  if (how == run_there::restore) {
    // The pre-dumps are the move's alone: gone whatever happens.
    struct pre_dumps_removed {
      const ve_layout& l;
      ~pre_dumps_removed() {
        std::error_code ec;
        std::filesystem::remove_all(l.pre_dumps, ec);
      }
    } removed{op.layout};
    auto last = send_while_running(op, s);
    if (!last) return told(s, last.error());
    return hand_over(op, s, {fmt::format("../{}/{}", op.layout.pre_dumps.filename().string(),
                                          *last), true});
  }
  if (how == run_there::start) {
    if (auto stopped = stop_locked(op, {}, monitor); !stopped) return told(s, stopped.error());
    op.live = {};
  }
  if (auto sent = send_rest(op, s, {}); !sent) return run_again(op, how, told(s, sent.error()));
  auto answered = answer_to_done(s);
  if (answered) return destroy_locked(op);
  if (answered.error().is(errc::in_doubt))
    return in_doubt(op, answered.error(),
                    how == run_there::start ? fmt::format("stopped (ovzctl start {})", op.id().value())
                                            : std::string("stopped"));
  return run_again(op, how, answered.error());
}

}  // namespace
}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::migrate(int fd, const migrate_options& opts) {
  std::optional<process> monitor;
  const detail::stream_end stream{fd, opts.timeout};
  auto moved = detail::ve_op::run(*this, {.lock = true, .config = true, .live = true},
                                  [&](detail::ve_op& op) -> result<void> {
                                    auto sent = detail::send_ve(op, stream, opts, monitor);
                                    if (!sent)
                                      return detail::with_context(sent.error(), "migrate");
                                    return sent;
                                  });
  // As after ve::stop: the stopped VE's monitor ends once it can take the lock.
  if (monitor) detail::finish_writer(*monitor);
  return moved;
}

}  // namespace ovz::inline v0
