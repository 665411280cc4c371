#pragma once
// The conversation that moves a VE: frames (kernel/frame_stream) of the types below, and
// directory trees carried in them as GNU tar archives (owners by number, xattrs of every
// namespace — overlayfs' trusted.overlay.* and file capabilities —, ACLs, holes).
//
//   sender                              receiver
//   hello (KEY="value" lines)      →
//                                  ←    ready | error (why it cannot take the VE)
//   file "conf" (CTID.conf)        →
//   tree "private", tree "dump"    →    (tree: its name, data frames, an empty data frame;
//                                        online: "private-base", "pre/N"…, "private-delta";
//                                        each dump's memory first, in a page session)
//   done                           →
//                                  ←    ok | error (what failed; nothing of the VE kept)
//
// After done only the answer says where the VE runs: a source that gets neither leaves it
// at rest (errc::in_doubt) rather than risk running it twice.
// Either side may send error instead of its next frame; its payload says why.

#include <ovz/result.hpp>

#include "kernel/frame_stream.hpp"

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace ovz::detail {

enum class mig : std::uint32_t {
  hello = 1,
  ready = 2,
  error = 3,
  file = 4,
  tree = 5,
  data = 6,
  done = 7,
  ok = 8,
  pages = 9,      ///< a dump's memory follows, to a page server (ve/page_relay)
  page_data = 10,
};

/// The sender's frames. A frame the receiver sends meanwhile ends the move: its error
/// becomes errc::peer_failed with its message (a receiver that failed stops reading; the
/// sender hears why instead of waiting on a full stream).
result<void> send(const stream_end& s, mig type, std::string_view payload = {});

/// The receiver's frames (ready, ok, error), written whatever the sender has sent meanwhile:
/// its error must go out while the sender's frames wait unread.
result<void> answer(const stream_end& s, mig type, std::string_view payload = {});

/// The next frame: an error frame becomes errc::peer_failed with the other side's message.
result<frame> next_frame(const stream_end& s, std::string_view what);

/// The next frame, which must be `type`: an error frame becomes errc::peer_failed with the
/// other side's message, another type errc::peer_failed naming both.
result<std::string> expect(const stream_end& s, mig type, std::string_view what);

/// Whether a tree may change while it is sent.
enum class tree_state {
  at_rest,  ///< nothing writes it: any file tar could not read whole is a failure
  in_use,   ///< a running VE's: files that change or go while read are taken as found
};

/// Sends the tree under `dir` as a tree frame named `name`, then its archive. With a
/// `snapshot` file, the archive is GNU tar's incremental one: everything the first time (no
/// file yet), then what changed since the last time, with the names of what was removed.
result<void> send_tree(const stream_end& s, std::string_view name, const std::filesystem::path& dir,
                       const std::filesystem::path& snapshot = {},
                       tree_state state = tree_state::at_rest);

/// How a tree's archive is taken.
enum class tree_into {
  new_dir,      ///< into `dir`, made here (it must not exist)
  new_dir_incremental,  ///< the same, from an incremental archive's first
  over_dir,     ///< over `dir`, from an incremental archive's next: removed files go
  beside,       ///< into `dir`, which holds what a page server wrote there
};

/// Receives the archive that follows a tree frame into `dir`.
result<void> receive_tree(const stream_end& s, const std::filesystem::path& dir, tree_into how);

}  // namespace ovz::detail
