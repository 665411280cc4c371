#pragma once
/// @file
/// unique_fd: the move-only owner of a file descriptor.

#include <ovz/export.hpp>

#include <utility>

namespace ovz::inline v0 {

/// Owns one file descriptor and closes it when destroyed. Moving hands ownership on;
/// release() gives it up explicitly.
class OVZ_API unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  /// Closes the owned descriptor, if any, and takes fd instead.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace ovz::inline v0
