#pragma once
// System calls glibc 2.36 has no wrapper for.

#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <csignal>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_ignore_thread_begin();
#endif

namespace ovz::detail {

inline int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

inline int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

/// clone3 with fork semantics (no new stack: the child returns here on a copy of ours). Until
/// its exec or exit the child calls nothing but kernel/raw.hpp. With CLONE_INTO_CGROUP in
/// `flags`, the child is born in the cgroup v2 directory `cgroup_fd`.
inline pid_t clone3_fork(unsigned long long flags, int* pidfd, int cgroup_fd = -1) {
  struct clone_args args {};
  args.flags = flags;
  args.pidfd = reinterpret_cast<unsigned long long>(pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<unsigned long long>(cgroup_fd);
  auto pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer knows nothing of a child made by a raw clone3: there it would compare the
  // child's accesses with the state of the caller's other threads, copied at the clone, and
  // report races between processes that share no memory.
  if (pid == 0) __tsan_ignore_thread_begin();
#endif
  return pid;
}

}  // namespace ovz::detail
