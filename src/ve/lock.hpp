#pragma once
// One operation at a time per VE: an flock on <root>/lock/<id>.lck. The kernel drops the lock
// when its holder dies, so a crashed caller never leaves a VE locked.

#include <ovz/ctid.hpp>
#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <filesystem>

namespace ovz::detail {

class ve_lock {
 public:
  /// Takes the lock or fails at once with errc::locked naming the holder's PID.
  static result<ve_lock> acquire(const std::filesystem::path& file, ctid id);

 private:
  explicit ve_lock(unique_fd fd) : fd_(std::move(fd)) {}
  unique_fd fd_;
};

}  // namespace ovz::detail
