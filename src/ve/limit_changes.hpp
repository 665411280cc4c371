#pragma once
// A count of the writes of running VEs' limits under a state root, in one file
// (run/limits.changes), for a reader that shows the limits in force (a live change not saved
// is in the kernel, not in CTID.conf) without reading them back from every VE's cgroup each
// time: it reads the count, one small file, and a VE's limits only when the count moved.
// Only the library writes a VE's limits: its cgroup's limit files are the host's, delegation
// gives the VE's root none of them (kernel/cgroup_delegate.cpp). A limit written there by hand
// shows in such a reader after the next change through the library, or a restart of the VE.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace ovz::detail {

/// Counts one write of a running VE's limits, after it is done: every write of limits into a
/// VE's cgroup (a start, a live change, its undo) calls it. `file` is the state root's
/// limit_changes_file().
result<void> count_limit_change(const std::filesystem::path& file);

/// The reader's side: a number that moves whenever the count did.
class limit_changes {
 public:
  explicit limit_changes(std::filesystem::path file) : file_(std::move(file)) {}

  /// The same number as the previous call while the count stayed, another once it moved
  /// (or could not be read: then the limits are read back as if it had). Called before the
  /// limits are read, so a change counted meanwhile moves the next call's.
  std::uint64_t generation();

 private:
  std::filesystem::path file_;
  unique_fd fd_;  // held: the count is rewritten in place, never replaced
  std::string last_;
  std::uint64_t generation_ = 0;
};

}  // namespace ovz::detail
