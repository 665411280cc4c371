#pragma once
// The system calls a child of clone3_fork (kernel/sys.hpp) makes between the clone and its
// exec or exit, made through syscall(2) and nothing else of libc.
//
// Such a child is a copy of a process whose other threads may have held any lock at the
// clone, and no thread of the copy will ever release one. libc's wrappers are not always
// just the system call: a sanitizer's runtime intercepts read, write, close, dup2, open,
// ioctl, sendmsg, prctl, sigaction, sigprocmask, waitpid and more, and its interceptors take
// the runtime's locks (ThreadSanitizer's prctl(PR_SET_NAME) renames the thread in its thread
// registry, under a mutex that a thread being created or joined at clone time holds: the
// child waited there forever). No sanitizer intercepts syscall(2) itself. Only the *at forms
// are used, which every architecture has.

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>

struct msghdr;

namespace ovz::detail::raw {

inline int as_int(long r) noexcept { return static_cast<int>(r); }

inline ssize_t read(int fd, void* buf, std::size_t n) noexcept {
  return ::syscall(SYS_read, fd, buf, n);
}
inline ssize_t write(int fd, const void* buf, std::size_t n) noexcept {
  return ::syscall(SYS_write, fd, buf, n);
}
inline int close(int fd) noexcept { return as_int(::syscall(SYS_close, fd)); }
inline int pipe2(int fds[2], int flags) noexcept { return as_int(::syscall(SYS_pipe2, fds, flags)); }
inline int close_range(unsigned first, unsigned last, unsigned flags) noexcept {
  return as_int(::syscall(SYS_close_range, first, last, flags));
}
inline int openat(int dir, const char* path, int flags, mode_t mode = 0) noexcept {
  return as_int(::syscall(SYS_openat, dir, path, flags, mode));
}
/// dup3 refuses equal descriptors, which dup2 takes as a no-op.
inline int dup2(int from, int to) noexcept {
  return from == to ? to : as_int(::syscall(SYS_dup3, from, to, 0));
}
inline int dup_above(int fd, int lowest) noexcept {
  return as_int(::syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, lowest));
}
inline int ioctl(int fd, unsigned long request, long arg) noexcept {
  return as_int(::syscall(SYS_ioctl, fd, request, arg));
}
inline ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) noexcept {
  return ::syscall(SYS_sendmsg, fd, msg, flags);
}
inline off_t seek_end(int fd) noexcept { return ::syscall(SYS_lseek, fd, 0, SEEK_END); }
inline int ftruncate(int fd, off_t size) noexcept {
  return as_int(::syscall(SYS_ftruncate, fd, size));
}
inline int renameat(int from_dir, const char* from, int to_dir, const char* to) noexcept {
  return as_int(::syscall(SYS_renameat2, from_dir, from, to_dir, to, 0));
}

/// Executable by us (faccessat X_OK): root passes where any execute bit is set.
inline int access_x(const char* path) noexcept {
  return as_int(::syscall(SYS_faccessat, AT_FDCWD, path, X_OK));
}
inline int setgroups(std::size_t n, const gid_t* groups) noexcept {
  return as_int(::syscall(SYS_setgroups, n, groups));
}
inline int setresgid(gid_t g, gid_t e, gid_t s) noexcept {
  return as_int(::syscall(SYS_setresgid, g, e, s));
}
inline int setresuid(uid_t u, uid_t e, uid_t s) noexcept {
  return as_int(::syscall(SYS_setresuid, u, e, s));
}
inline int mkdirat(int dir, const char* name, mode_t mode) noexcept {
  return as_int(::syscall(SYS_mkdirat, dir, name, mode));
}
inline int mknodat(int dir, const char* name, mode_t mode, dev_t dev) noexcept {
  return as_int(::syscall(SYS_mknodat, dir, name, mode, dev));
}
inline int fchownat(int dir, const char* name, uid_t uid, gid_t gid, int flags) noexcept {
  return as_int(::syscall(SYS_fchownat, dir, name, uid, gid, flags));
}
inline long readlinkat(int dir, const char* name, char* buf, unsigned long size) noexcept {
  return ::syscall(SYS_readlinkat, dir, name, buf, size);
}
inline int fstatat(int dir, const char* name, struct stat* st, int flags) noexcept {
  return as_int(::syscall(SYS_newfstatat, dir, name, st, flags));
}
inline int symlinkat(const char* target, int dir, const char* name) noexcept {
  return as_int(::syscall(SYS_symlinkat, target, dir, name));
}
/// openat2(2) with `resolve` (RESOLVE_IN_ROOT…), O_CLOEXEC added.
inline int openat2(int dir, const char* path, int flags, unsigned long long resolve) noexcept {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = resolve;
  return as_int(::syscall(SYS_openat2, dir, path, &how, sizeof how));
}
inline int chdir(const char* path) noexcept { return as_int(::syscall(SYS_chdir, path)); }
inline int fchdir(int fd) noexcept { return as_int(::syscall(SYS_fchdir, fd)); }
inline int chroot(const char* path) noexcept { return as_int(::syscall(SYS_chroot, path)); }
inline mode_t umask(mode_t mask) noexcept {
  return static_cast<mode_t>(::syscall(SYS_umask, mask));
}
inline int mount(const char* source, const char* target, const char* fstype,
                 unsigned long flags, const void* data) noexcept {
  return as_int(::syscall(SYS_mount, source, target, fstype, flags, data));
}
inline int statfs(const char* path, struct statfs* st) noexcept {
  return as_int(::syscall(SYS_statfs, path, st));
}
inline int umount2(const char* target, int flags) noexcept {
  return as_int(::syscall(SYS_umount2, target, flags));
}
inline int move_mount(int from_dir, const char* from, int to_dir, const char* to,
                      unsigned flags) noexcept {
  return as_int(::syscall(SYS_move_mount, from_dir, from, to_dir, to, flags));
}
inline int pivot_root(const char* new_root, const char* put_old) noexcept {
  return as_int(::syscall(SYS_pivot_root, new_root, put_old));
}

inline int unshare(int flags) noexcept { return as_int(::syscall(SYS_unshare, flags)); }
inline int setns(int fd, int flags) noexcept { return as_int(::syscall(SYS_setns, fd, flags)); }
inline int sethostname(const char* name, std::size_t len) noexcept {
  return as_int(::syscall(SYS_sethostname, name, len));
}
inline pid_t setsid() noexcept { return static_cast<pid_t>(::syscall(SYS_setsid)); }
inline pid_t getpid() noexcept { return static_cast<pid_t>(::syscall(SYS_getpid)); }
/// Becomes root (uid, gid, no supplementary groups) of the user namespace we are in. The
/// raw calls also keep glibc from broadcasting the change to threads the child does not have.
inline bool become_root() noexcept {
  return ::syscall(SYS_setresgid, 0, 0, 0) == 0 && ::syscall(SYS_setgroups, 0, nullptr) == 0 &&
         ::syscall(SYS_setresuid, 0, 0, 0) == 0;
}
inline int prctl(int option, unsigned long arg) noexcept {
  return as_int(::syscall(SYS_prctl, option, arg, 0UL, 0UL, 0UL));
}
inline int prctl(int option, unsigned long arg2, unsigned long arg3) noexcept {
  return as_int(::syscall(SYS_prctl, option, arg2, arg3, 0UL, 0UL));
}
inline int capget(void* head, void* data) noexcept {
  return as_int(::syscall(SYS_capget, head, data));
}
inline int capset(void* head, const void* data) noexcept {
  return as_int(::syscall(SYS_capset, head, data));
}
inline int seccomp(unsigned op, unsigned flags, const void* args) noexcept {
  return as_int(::syscall(SYS_seccomp, op, flags, args));
}

/// The kernel's signal set is 64 bits wherever it has 64 signals; glibc's sigset_t is 1024.
inline constexpr std::size_t kernel_sigset_size = 8;

/// Every handler back to SIG_DFL and no signal blocked. All zeros is a default action with no
/// flags and an empty mask in every architecture's layout of the kernel's struct sigaction.
inline void reset_signals() noexcept {
  static constexpr unsigned long default_action[4] = {};
  for (int sig = 1; sig <= 64; ++sig)
    ::syscall(SYS_rt_sigaction, sig, default_action, nullptr, kernel_sigset_size);
  static constexpr unsigned long none = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, kernel_sigset_size);
}

inline pid_t waitpid(pid_t pid, int* status) noexcept {
  return static_cast<pid_t>(::syscall(SYS_wait4, pid, status, 0, nullptr));
}
inline int execve(const char* path, const char* const* argv, const char* const* envp) noexcept {
  return as_int(::syscall(SYS_execve, path, argv, envp));
}
/// How a child ends without running anything of the caller's process: not even _exit, which
/// a sanitizer's runtime intercepts and runs its own exit code in.
[[noreturn]] inline void exit_group(int code) noexcept {
  for (;;) ::syscall(SYS_exit_group, code);
}

}  // namespace ovz::detail::raw
