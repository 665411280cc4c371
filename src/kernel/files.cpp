#include "kernel/files.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ovz::detail {

result<std::string> read_file(const std::string& path, int flags) {
  return read_file_at(AT_FDCWD, path.c_str(), path, flags);
}

result<std::string> read_file_at(int dir_fd, const char* name, const std::string& path,
                                 int flags) {
  // O_NONBLOCK: a FIFO or a device put where a file is expected is refused below at once
  // instead of blocking the caller (status, list) until someone writes to it.
  unique_fd fd(::openat(dir_fd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | flags));
  if (!fd && errno == ELOOP && (flags & O_NOFOLLOW))
    return fail(errc::invalid_argument, "{} is a symlink, which is not followed", path);
  if (!fd) return sys_fail(errno, "open {}", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail(errno, "fstat {}", path);
  if (!S_ISREG(st.st_mode))
    return fail(errc::invalid_argument, "{} is not a regular file", path);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail(errno, "read {}", path);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

result<unique_fd> open_root_of(pid_t pid) {
  const auto path = fmt::format("/proc/{}/root", pid);
  unique_fd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", path);
  return fd;
}

result<unique_fd> open_below(int dir_fd, const std::string& path, int flags, std::uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
  unique_fd fd;
  // EAGAIN: a rename elsewhere in the tree during the walk; a tree that keeps renaming wins
  // an error, not a spin.
  for (int attempts = 100; attempts > 0; --attempts) {
    fd.reset(static_cast<int>(::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how)));
    if (fd || errno != EAGAIN) break;
  }
  if (!fd) return sys_fail(errno, "openat2 {}", path);
  return fd;
}

result<void> write_file(const std::string& path, std::string_view value) {
  return write_file_at(AT_FDCWD, path.c_str(), path, value);
}

result<void> write_file_at(int dir_fd, const char* name, const std::string& path,
                           std::string_view value) {
  unique_fd fd(::openat(dir_fd, name, O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", path);
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_fail(errno, "write \"{}\" to {}", value, path);
  return success();
}

result<void> sync_dir(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", path);
  if (::fsync(fd.get()) != 0) return sys_fail(errno, "fsync {}", path);
  return success();
}

}  // namespace ovz::detail
