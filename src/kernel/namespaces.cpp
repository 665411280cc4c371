#include <ovz/namespaces.hpp>

#include "fail.hpp"
#include "kernel/sys.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

namespace ovz::inline v0 {

int clone_flag(ns_type t) noexcept {
  switch (t) {
    case ns_type::mnt: return CLONE_NEWNS;
    case ns_type::uts: return CLONE_NEWUTS;
    case ns_type::ipc: return CLONE_NEWIPC;
    case ns_type::net: return CLONE_NEWNET;
    case ns_type::pid: return CLONE_NEWPID;
    case ns_type::cgroup: return CLONE_NEWCGROUP;
    case ns_type::user: return CLONE_NEWUSER;
    case ns_type::time: return CLONE_NEWTIME;
  }
  return 0;
}

const char* ns_name(ns_type t) noexcept {
  switch (t) {
    case ns_type::mnt: return "mnt";
    case ns_type::uts: return "uts";
    case ns_type::ipc: return "ipc";
    case ns_type::net: return "net";
    case ns_type::pid: return "pid";
    case ns_type::cgroup: return "cgroup";
    case ns_type::user: return "user";
    case ns_type::time: return "time";
  }
  return "?";
}

ns_set ns_set::ve_default() noexcept {
  ns_set s;
  for (auto t : {ns_type::pid, ns_type::mnt, ns_type::uts, ns_type::ipc, ns_type::net,
                 ns_type::cgroup})
    s.add(t);
  return s;
}

result<ns_handle> ns_handle::open(pid_t pid, ns_type type) {
  auto path = fmt::format("/proc/{}/ns/{}", pid, ns_name(type));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return detail::sys_fail(errno, "open {}", path);
  return ns_handle(unique_fd(fd), type);
}

result<std::uint64_t> ns_handle::inode() const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return detail::sys_fail(errno, "fstat {} namespace", ns_name(type_));
  return static_cast<std::uint64_t>(st.st_ino);
}

result<process> process::open(pid_t pid) {
  int fd = detail::pidfd_open(pid);
  if (fd < 0) return detail::sys_fail(errno, "pidfd_open of PID {}", pid);
  return process(pid, unique_fd(fd), false);
}

result<void> process::signal(int sig) const {
  if (detail::pidfd_send_signal(fd_.get(), sig) != 0 && errno != ESRCH)
    return detail::sys_fail(errno, "signal {} to PID {}", sig, pid_);
  return success();
}

result<bool> process::wait_exit(std::chrono::milliseconds timeout) const {
  struct pollfd p = {fd_.get(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return detail::sys_fail(errno, "poll pidfd of PID {}", pid_);
  return r > 0;
}

result<int> process::wait() {
  if (!child_)
    return detail::fail(errc::invalid_argument, "PID {} is not a child of this process", pid_);
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(P_PIDFD, static_cast<id_t>(fd_.get()), &info, WEXITED);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return detail::sys_fail(errno, "waitid for PID {}", pid_);
  child_ = false;
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

}  // namespace ovz::inline v0
