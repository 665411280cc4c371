#pragma once
// One operation at a time per VE: an flock on <root>/lock/<id>.lck. The kernel drops the lock
// when its holder dies, so a crashed caller never leaves a VE locked. The file holds nothing;
// it exists while its VE does (or while an operation on that CTID runs).

#include <ovz/ctid.hpp>
#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include "model/layout.hpp"

#include <filesystem>

namespace ovz::detail {

/// A lock file opened without following a symlink there, made if missing, read-only (flock
/// needs no more, and a read-only state root must not keep an admin from stopping VEs).
result<unique_fd> open_lock_file(const std::filesystem::path& file);

class ve_lock {
 public:
  /// Takes the VE's lock or fails at once with errc::locked, naming the holder when
  /// /proc/locks shows it.
  static result<ve_lock> acquire(const ve_paths& l, ctid id);

  ve_lock(ve_lock&&) noexcept = default;
  ve_lock& operator=(ve_lock&&) = delete;
  /// Releases the lock, removing its file first when the VE does not exist (any more): a
  /// refused command on an unused CTID, a failed create, a destroy leave no file behind.
  ~ve_lock();

 private:
  ve_lock(unique_fd fd, const ve_paths& l) : fd_(std::move(fd)), file_(l.lock), conf_(l.conf) {}
  unique_fd fd_;
  std::filesystem::path file_;
  std::filesystem::path conf_;
};

}  // namespace ovz::detail
