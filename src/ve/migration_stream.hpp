#pragma once
// The conversation that moves a VE: frames (kernel/frame_stream) of the types below, and
// directory trees carried in them as GNU tar archives (owners by number, xattrs of every
// namespace — overlayfs' trusted.overlay.* and file capabilities —, ACLs, holes).
//
//   sender                              receiver
//   hello (KEY="value" lines)      →
//                                  ←    ready | error (why it cannot take the VE)
//   file "conf" (CTID.conf)        →
//   tree "private", tree "dump"    →    (tree: its name, data frames, an empty data frame)
//   done                           →
//                                  ←    ok | error (what failed; nothing of the VE kept)
//
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
};

result<void> send(int fd, mig type, std::string_view payload = {});

/// The next frame, which must be `type`: an error frame becomes errc::peer_failed with the
/// other side's message, another type errc::peer_failed naming both.
result<std::string> expect(int fd, mig type, std::string_view what);

/// Sends the tree under `dir` as a tree frame named `name`, then its archive.
result<void> send_tree(int fd, std::string_view name, const std::filesystem::path& dir);

/// Receives the archive that follows a tree frame into `dir` (made here; it must not exist).
result<void> receive_tree(int fd, const std::filesystem::path& dir);

}  // namespace ovz::detail
