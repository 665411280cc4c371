#pragma once
// System calls glibc 2.36 has no wrapper for.

#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <csignal>

// A child of clone3 runs on in a copy of a multi-threaded program: ThreadSanitizer's
// instrumentation there would take the runtime's locks, which another thread may have held at
// the clone and which the child then waits for for ever (spinning in sched_yield). The code a
// child runs, its caller's part after the clone included, is left uninstrumented.
#define OVZ_CHILD_CODE __attribute__((no_sanitize("thread")))

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
  // A child made our sibling (CLONE_PARENT) signals our parent as we do; clone3 takes no
  // signal of its own for it.
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  args.cgroup = static_cast<unsigned long long>(cgroup_fd);
  // Nothing here may call into ThreadSanitizer's runtime, not even __tsan_ignore_thread_begin
  // (it takes the stack depot's lock): callers are OVZ_CHILD_CODE.
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

}  // namespace ovz::detail
