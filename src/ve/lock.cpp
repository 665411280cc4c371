#include "ve/lock.hpp"

#include "fail.hpp"
#include "kernel/proc_locks.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace ovz::detail {
namespace {

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Who holds the flock on this file, as far as this PID namespace can tell.
std::string holder_of(const struct stat& st) {
  const auto held = held_locks();
  auto it = std::find_if(held.begin(), held.end(), [&](const held_lock& h) {
    return h.dev == st.st_dev && h.ino == st.st_ino && h.pid > 0;
  });
  return it == held.end() ? std::string() : fmt::format(" (PID {})", it->pid);
}

}  // namespace

result<unique_fd> open_lock_file(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return sys_fail(ec.value(), "create {}", file.parent_path().string());
  // O_NONBLOCK: a FIFO put there must not hang the caller.
  unique_fd fd(::open(file.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (!fd && errno == ELOOP)
    return fail(errc::invalid_argument, "lock {} is a symlink: not followed", file.string());
  if (!fd) return sys_fail(errno, "open lock {}", file.string());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail(errno, "fstat lock {}", file.string());
  if (!S_ISREG(st.st_mode))
    return fail(errc::invalid_argument, "lock {} is not a regular file", file.string());
  return fd;
}

result<ve_lock> ve_lock::acquire(const ve_paths& l, ctid id) {
  for (;;) {
    auto fd = open_lock_file(l.lock);
    if (!fd) return with_context(fd.error(), fmt::format("VE {}", id.value()));
    struct stat held {};
    if (::fstat(fd->get(), &held) != 0)
      return sys_fail(errno, "VE {}: fstat lock {}", id.value(), l.lock.string());
    // A child that another thread of this process is just creating shares our open file
    // description (and so the lock) until it closes inherited descriptors, microseconds
    // later; an operation that is just ending (a stop whose VE's monitor waits to clean up)
    // lets go within a millisecond or two. Retries for half a second, soon at first, keep
    // either from looking like a concurrent operation.
    auto pause = std::chrono::microseconds(100);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK)
        return sys_fail(errno, "VE {}: flock {}", id.value(), l.lock.string());
      if (std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(1000));
        continue;
      }
      return fail(errc::locked, "VE {} is locked by another operation{}; try again later",
                  id.value(), holder_of(held));
    }
    // The holder before us may have removed the file (its VE was destroyed) after we opened
    // it: a lock on an unlinked file excludes nobody, so take the one the path names now.
    struct stat named {};
    if (::lstat(l.lock.c_str(), &named) == 0) {
      if (same_file(named, held)) return ve_lock(std::move(fd).value(), l);
    } else if (errno != ENOENT) {
      return sys_fail(errno, "VE {}: lstat lock {}", id.value(), l.lock.string());
    }
  }
}

ve_lock::~ve_lock() {
  if (!fd_) return;
  struct stat conf {}, named {}, held {};
  if (::lstat(conf_.c_str(), &conf) == 0 || errno != ENOENT) return;
  // Unlinked while held, and only if it is still ours: the next locker then sees that the
  // path no longer names what it locked and opens a new file.
  if (::fstat(fd_.get(), &held) == 0 && ::lstat(file_.c_str(), &named) == 0 &&
      same_file(held, named))
    (void)::unlink(file_.c_str());
}

}  // namespace ovz::detail
