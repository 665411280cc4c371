#include "ve/lock.hpp"

#include "fail.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace ovz::detail {

result<ve_lock> ve_lock::acquire(const std::filesystem::path& file, ctid id) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return sys_fail(ec.value(), "VE {}: create {}", id.value(), file.parent_path().string());
  unique_fd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys_fail(errno, "VE {}: open lock {}", id.value(), file.string());
  // A child that another thread of this process is just creating shares our open file
  // description (and so the lock) until it closes inherited descriptors, microseconds later:
  // a short retry keeps that from looking like a concurrent operation.
  int attempts = 100;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return sys_fail(errno, "VE {}: flock {}", id.value(), file.string());
    if (--attempts > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    char buf[32] = {};
    ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
    return fail(errc::locked, "VE {} is locked by another operation (PID {}); try again later",
                id.value(), holder);
  }
  auto pid = std::to_string(::getpid());
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
    return sys_fail(errno, "VE {}: write lock {}", id.value(), file.string());
  return ve_lock(std::move(fd));
}

}  // namespace ovz::detail
