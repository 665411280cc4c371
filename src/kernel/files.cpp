#include "kernel/files.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>

namespace ovz::detail {
namespace {

// Removes the temporary file of a save unless it was renamed into place.
struct temp_file {
  std::filesystem::path path;
  bool renamed = false;
  ~temp_file() {
    if (!renamed) ::unlink(path.c_str());
  }
};

// A save killed between naming its file and the rename leaves ".NAME.PID.N.tmp": removed by
// the next save of NAME once process PID is gone (a live one may be saving right now).
void remove_stale_temps(const std::filesystem::path& dir, const std::string& name) {
  const std::string prefix = "." + name + ".";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (!entry.starts_with(prefix) || !entry.ends_with(".tmp")) continue;
    pid_t pid = 0;
    const char* digits = entry.data() + prefix.size();
    auto [end_of_pid, bad] = std::from_chars(digits, entry.data() + entry.size(), pid);
    if (bad != std::errc() || *end_of_pid != '.' || pid <= 0) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    (void)::unlink(it->path().c_str());
  }
}

result<void> write_all(int fd, std::string_view data, const std::filesystem::path& file,
                       const std::filesystem::path& tmp) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return detail::sys_fail(errno, "Cannot save {}: write {}", file.string(), tmp.string());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return success();
}

}  // namespace


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

result<std::string> reread_file(int fd, const std::string& shown) {
  std::string out;
  char buf[4096];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail(errno, "read {}", shown);
    out.append(buf, static_cast<std::size_t>(n));
    // seq_file fills what it is given up to the end: a short read is the end.
    if (static_cast<std::size_t>(n) < sizeof buf) return out;
    at += n;
  }
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

result<void> replace_file(const std::filesystem::path& file, std::string_view text) {
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  const std::string name = file.filename().string();
  remove_stale_temps(dir, name);

  // The text goes to an unnamed file (O_TMPFILE) that gets a name only when complete and
  // flushed, just before the rename: a save killed before that leaves nothing. Where the
  // filesystem has no O_TMPFILE the file is named from the start. 0644 less the umask, as
  // any editor's.
  static std::atomic<unsigned> counter{0};
  auto temp_name = [&] { return dir / fmt::format(".{}.{}.{}.tmp", name, ::getpid(), counter++); };
  temp_file tmp{temp_name()};
  unique_fd fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
  const bool unnamed = bool(fd);
  if (!unnamed && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return detail::sys_fail(errno, "Cannot save {}: create a file in {}", file.string(), dir.string());
  while (!fd) {
    fd.reset(::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd) break;
    if (errno != EEXIST)
      return detail::sys_fail(errno, "Cannot save {}: create {}", file.string(), tmp.path.string());
    tmp.path = temp_name();
  }
  tmp.renamed = unnamed;  // nothing to remove until it is linked

  // Replacing a file must not change who may read it.
  struct stat st;
  if (::stat(file.c_str(), &st) == 0 && ::fchmod(fd.get(), st.st_mode & 07777) != 0)
    return detail::sys_fail(errno, "Cannot save {}: chmod {}", file.string(), tmp.path.string());

  BOOST_OUTCOME_TRY(write_all(fd.get(), text, file, tmp.path));
  if (::fsync(fd.get()) != 0)
    return detail::sys_fail(errno, "Cannot save {}: fsync {}", file.string(), tmp.path.string());
  if (unnamed) {
    // rename(2) takes names only; linkat through /proc needs no privilege, unlike AT_EMPTY_PATH.
    const auto self = fmt::format("/proc/self/fd/{}", fd.get());
    while (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.path.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      if (errno != EEXIST)
        return detail::sys_fail(errno, "Cannot save {}: link {}", file.string(), tmp.path.string());
      tmp.path = temp_name();
    }
    tmp.renamed = false;
  }
  fd.reset();
  if (::rename(tmp.path.c_str(), file.c_str()) != 0)
    return detail::sys_fail(errno, "Cannot save {}: rename {}", file.string(), tmp.path.string());
  tmp.renamed = true;

  // Without this the rename itself may not survive a crash.
  unique_fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd || ::fsync(dfd.get()) != 0)
    return detail::sys_fail(errno, "Cannot save {}: fsync directory {}", file.string(),
                            dir.string());
  return success();
}

result<void> remove_file_if_any(const std::filesystem::path& file) {
  if (::unlink(file.c_str()) == 0 || errno == ENOENT) return success();
  if (errno == EROFS && ::access(file.c_str(), F_OK) != 0) return success();
  return sys_fail(errno, "remove {}", file.string());
}

bool write_all_quietly(int fd, std::string_view data) {
  sigset_t pipe_only, old;
  ::sigemptyset(&pipe_only);
  ::sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t n = 0;
  while (!data.empty() && ((n = ::write(fd, data.data(), data.size())) > 0 || errno == EINTR))
    if (n > 0) data.remove_prefix(static_cast<std::size_t>(n));
  const int err = errno;
  // Taken back only if it was ours: one already pending before stays for the caller.
  if (!data.empty() && err == EPIPE && !::sigismember(&old, SIGPIPE)) {
    const struct timespec now = {0, 0};
    ::sigtimedwait(&pipe_only, nullptr, &now);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return data.empty();
}

}  // namespace ovz::detail
