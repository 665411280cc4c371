#include "kernel/init_control.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/sys.hpp"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace ovz::detail {

result<unique_fd> open_init_proc(pid_t pid, int pidfd) {
  const auto path = fmt::format("/proc/{}", pid);
  unique_fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_fail(errno, "open {}", path);
  // Alive after the open: the directory is the pidfd's process, not a successor's.
  if (pidfd_send_signal(pidfd, 0) != 0) return sys_fail(errno, "PID {}: pidfd_send_signal", pid);
  struct stat theirs {};
  struct stat ours {};
  if (::fstatat(dir.get(), "ns/pid", &theirs, 0) != 0)
    return sys_fail(errno, "{}/ns/pid: stat", path);
  if (::stat("/proc/self/ns/pid", &ours) != 0) return sys_fail(errno, "/proc/self/ns/pid: stat");
  if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
    return fail(errc::invalid_argument, "PID {} is in the host's PID namespace: not a VE's init", pid);
  return dir;
}

result<init_identity> identify_init(int proc_dir) {
  init_identity id;
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(proc_dir, "exe", buf, sizeof buf);
  if (n < 0) return sys_fail(errno, "readlink exe");
  id.exe.assign(buf, static_cast<size_t>(n));
  BOOST_OUTCOME_TRY(comm, read_file_at(proc_dir, "comm", "comm"));
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  id.comm = std::move(comm);
  return id;
}

result<bool> write_initctl(int proc_dir, std::string_view request) {
  if (request.size() > PIPE_BUF)
    return fail(errc::invalid_argument, "an initctl request of {} bytes", request.size());
  unique_fd root(::openat(proc_dir, "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_fail(errno, "open root");
  auto found = open_below(root.get(), "run/initctl", O_PATH | O_NOFOLLOW, RESOLVE_IN_ROOT);
  if (!found) {
    if (found.error().sys_errno() == ENOENT) return false;
    return found.error();
  }
  struct stat st {};
  if (::fstat(found.value().get(), &st) != 0) return sys_fail(errno, "run/initctl: fstat");
  if (!S_ISFIFO(st.st_mode)) return false;
  // Reopens that very FIFO for writing (the O_PATH descriptor's inode, nothing looked up again).
  const auto self = fmt::format("/proc/self/fd/{}", found.value().get());
  unique_fd fifo(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENXIO) return false;  // no reader
    return sys_fail(errno, "run/initctl: open");
  }
  // A reader that went away between the open and the write is EPIPE, not SIGPIPE.
  if (write_all_quietly(fifo.get(), request)) return true;
  if (errno == EAGAIN || errno == EPIPE) return false;  // full, or its reader went away
  return sys_fail(errno, "run/initctl: write");
}

}  // namespace ovz::detail
