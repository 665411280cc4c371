// spawn's children: from the clone to the exec, raw system calls only (kernel/raw.hpp), never
// malloc, a libc wrapper or a lock another thread of the parent may have held at clone time.
// See spawn_plan.hpp.

#include "kernel/spawn_plan.hpp"

#include "kernel/raw.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <new>

namespace ovz::detail::spawning {
namespace {

OVZ_CHILD_CODE void child_send(int fd, const report& r) noexcept {
  ssize_t n;
  do {
    n = raw::write(fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
}

// Closes every descriptor from 3 up but the `n` sorted ones in `keep`.
OVZ_CHILD_CODE void close_except(const int* keep, std::size_t n) noexcept {
  unsigned first = 3;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = keep[i];
    if (fd < static_cast<int>(first)) continue;
    if (fd > static_cast<int>(first)) raw::close_range(first, fd - 1, 0);
    first = fd + 1;
  }
  raw::close_range(first, ~0u, 0);
}

OVZ_CHILD_CODE void wait_release(int fd) noexcept {
  char c;
  ssize_t n;
  do {
    n = raw::read(fd, &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) raw::exit_group(1);  // the parent gave up on us
}

OVZ_CHILD_CODE void wait_eof(int fd) noexcept {
  char c;
  ssize_t n;
  do {
    n = raw::read(fd, &c, 1);
  } while (n > 0 || (n < 0 && errno == EINTR));
}

// `prefix` and the decimal `value` in `buf`, without the formatting functions a child may
// not call.
OVZ_CHILD_CODE const char* with_number(char (&buf)[32], const char* prefix, int value) noexcept {
  std::size_t n = 0;
  for (; prefix[n] && n < 16; ++n) buf[n] = prefix[n];
  char digits[12];
  std::size_t d = 0;
  do {
    digits[d++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (d > 0) buf[n++] = digits[--d];
  buf[n] = '\0';
  return buf;
}

// An entry already there does as well as a new one when it is what the step would make: an
// empty file to bind over, the same device or the same link (a /dev bound from the host has
// /dev/null and /dev/fd).
OVZ_CHILD_CODE bool same_node(const frozen_step& s, int dir, const char* name) noexcept {
  if (s.what == fs_step::kind::symlink) {
    char buf[4096];
    const long n = raw::readlinkat(dir, name, buf, sizeof buf);
    errno = EEXIST;
    if (n <= 0 || static_cast<unsigned long>(n) >= sizeof buf) return false;
    long i = 0;
    for (; i < n && s.source[i] == buf[i]; ++i) {
    }
    return i == n && s.source[n] == '\0';
  }
  if (S_ISREG(s.mode)) return true;
  struct stat st {};
  if (raw::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  errno = EEXIST;  // what the step reports if it is another node
  return (st.st_mode & S_IFMT) == (s.mode & S_IFMT) && st.st_rdev == s.dev;
}

// A node the host made (fd, kernel/host_nodes.hpp) is attached on a file made for it; one made
// here is given its owner.
OVZ_CHILD_CODE bool make_node(const frozen_step& s, int dir, const char* name) noexcept {
  if (s.fd >= 0) {
    if (raw::mknodat(dir, name, S_IFREG | 0600, 0) != 0 && errno != EEXIST) return false;
    return raw::move_mount(s.fd, "", dir, name, MOVE_MOUNT_F_EMPTY_PATH) == 0;
  }
  if (raw::mknodat(dir, name, s.mode, s.dev) != 0 && !(errno == EEXIST && same_node(s, dir, name)))
    return false;
  return (s.uid == 0 && s.gid == 0) ||
         raw::fchownat(dir, name, s.uid, s.gid, AT_SYMLINK_NOFOLLOW) == 0;
}

// A bind's flags; in a user namespace those the mount has from a more privileged one (nodev,
// nosuid, …) are locked, and are kept where asking without them is refused, as runc keeps them.
OVZ_CHILD_CODE bool remount(const char* target, unsigned long flags) noexcept {
  if (raw::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) == 0) return true;
  if (errno != EPERM) return false;
  struct statfs st {};
  if (raw::statfs(target, &st) != 0) return false;
  // statfs's ST_* flags are the MS_* ones.
  const unsigned long locked = static_cast<unsigned long>(st.f_flags) &
                               (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                MS_NODIRATIME | MS_RELATIME);
  if ((flags | locked) == flags) {
    errno = EPERM;
    return false;
  }
  return raw::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | flags | locked, nullptr) == 0;
}

// A step's own system call on `target`; for mount-like steps a path that names the target
// (/proc/self/fd/N of one opened inside the root, where the step is in_root).
OVZ_CHILD_CODE bool act(const frozen_step& s, const char* target, int dir, const char* name) noexcept {
  switch (s.what) {
    case fs_step::kind::mount:
      return raw::mount(s.source, target, s.fstype, s.flags, s.data) == 0;
    case fs_step::kind::bind:
      return raw::mount(s.source, target, nullptr, MS_BIND | (s.flags & MS_REC), nullptr) == 0;
    case fs_step::kind::remount_ro: return remount(target, MS_RDONLY | s.flags);
    case fs_step::kind::remount: return remount(target, s.flags);
    case fs_step::kind::mkdir:
      return raw::mkdirat(dir, name, s.mode) == 0 || errno == EEXIST;
    case fs_step::kind::mknod:
      return make_node(s, dir, name);
    case fs_step::kind::symlink:
      return raw::symlinkat(s.source, dir, name) == 0 || (errno == EEXIST && same_node(s, dir, name));
    case fs_step::kind::attach:
      // Followed as mount(2) follows a bind's target: /proc/self/fd/N of one opened in the root.
      return raw::move_mount(s.fd, "", AT_FDCWD, target,
                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) == 0;
    case fs_step::kind::mask:
      // A file takes /dev/null; a directory refuses it (ENOTDIR) and takes an empty tmpfs.
      if (raw::mount("/dev/null", target, nullptr, MS_BIND, nullptr) == 0) return true;
      return errno == ENOTDIR &&
             raw::mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "size=0") == 0;
  }
  return false;
}

OVZ_CHILD_CODE bool creates_entry(fs_step::kind k) noexcept {
  return k == fs_step::kind::mkdir || k == fs_step::kind::mknod || k == fs_step::kind::symlink;
}

// The step on its target looked up inside the root (`root`, opened once the root is attached):
// what creates an entry does it in its parent opened there; what mounts goes through the
// target opened there. ".." and symbolic links end at the root, wherever they point.
OVZ_CHILD_CODE bool in_root_step(const frozen_step& s, const char* new_root, int& root) noexcept {
  if (root < 0 && (root = raw::openat(AT_FDCWD, new_root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return false;
  const char* rel = s.target;
  for (const char* r = new_root; *r && *rel == *r; ++r, ++rel) {
  }
  while (*rel == '/') ++rel;
  char buf[4096];
  std::size_t n = 0;
  for (; rel[n] && n + 1 < sizeof buf; ++n) buf[n] = rel[n];
  buf[n] = '\0';
  if (rel[n]) {
    errno = ENAMETOOLONG;
    return false;
  }
  if (creates_entry(s.what)) {
    std::size_t slash = n;
    while (slash > 0 && buf[slash - 1] != '/') --slash;
    const char* name = buf + slash;
    const char* parent = ".";
    if (slash > 0) {
      buf[slash - 1] = '\0';
      parent = buf;
    }
    const int dir = raw::openat2(root, parent, O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT);
    if (dir < 0) return false;
    const bool ok = act(s, nullptr, dir, name);
    const int err = errno;
    raw::close(dir);
    errno = err;
    return ok;
  }
  const int fd = raw::openat2(root, n ? buf : ".", O_PATH, RESOLVE_IN_ROOT);
  if (fd < 0) return false;
  char path[32];
  with_number(path, "/proc/self/fd/", fd);
  const bool ok = act(s, path, AT_FDCWD, nullptr);
  const int err = errno;
  raw::close(fd);
  errno = err;
  return ok;
}

OVZ_CHILD_CODE bool do_step(const frozen_step& s, const char* new_root, int& root) noexcept {
  if (s.in_root && new_root) return in_root_step(s, new_root, root);
  return act(s, s.target, AT_FDCWD, s.target);
}

// The terminal's slave becomes the VE's /dev/console, where an init writes its boot messages
// and a getty may wait for a login. The VE's /dev is its own tmpfs, so the file made to bind
// it on replaces nothing of the host's.
OVZ_CHILD_CODE void bind_console(const plan& p, int slave) noexcept {
  int target = raw::openat(AT_FDCWD, "/dev/console",
                           O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
  if (target < 0) child_fail(p, step_console);
  raw::close(target);
  char source[32];
  if (raw::mount(with_number(source, "/proc/self/fd/", slave), "/dev/console", nullptr, MS_BIND, nullptr) != 0)
    child_fail(p, step_console);
}

// Sends `fd` over the socket `sock` (SCM_RIGHTS), with one byte of data.
OVZ_CHILD_CODE bool send_fd(int sock, int fd) noexcept {
  char byte = 'p';
  struct iovec iov = {&byte, 1};
  // Built in place rather than with memset and memcpy, which a sanitizer intercepts.
  alignas(struct cmsghdr) unsigned char buf[CMSG_SPACE(sizeof(int))];
  auto* head = new (buf) cmsghdr{};
  head->cmsg_level = SOL_SOCKET;
  head->cmsg_type = SCM_RIGHTS;
  head->cmsg_len = CMSG_LEN(sizeof(int));
  new (CMSG_DATA(head)) int(fd);
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = buf;
  msg.msg_controllen = sizeof buf;
  return raw::sendmsg(sock, &msg, MSG_NOSIGNAL) == 1;
}

// Opens a terminal in the (new) root's devpts, hands its master over pty_socket (to the
// parent, or to the monitor) and makes the slave our stdio and controlling terminal.
OVZ_CHILD_CODE void open_pty(plan& p) noexcept {
  int master = raw::openat(AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child_fail(p, step_pty);
  int unlock = 0;
  if (raw::ioctl(master, TIOCSPTLCK, reinterpret_cast<long>(&unlock)) != 0)
    child_fail(p, step_pty);
  int slave = raw::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) child_fail(p, step_pty);
  if (p.console) bind_console(p, slave);
  if (!send_fd(p.pty_socket, master)) child_fail(p, step_pty);
  raw::close(master);
  p.stdio = {slave, slave, slave};
  if (raw::setsid() < 0 || raw::ioctl(slave, TIOCSCTTY, 0) != 0) child_fail(p, step_pty);
}

// An exec as root gets the inheritable set on top of what the bounding set leaves, and keeps
// the ambient set: a caller holding capabilities there (a service with AmbientCapabilities=)
// would hand the new process back what the bounding set just took.
OVZ_CHILD_CODE bool clear_inherited_capabilities() noexcept {
  if (raw::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL) != 0 && errno != EINVAL)
    return false;
  __user_cap_header_struct head{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (raw::capget(&head, data) != 0) return false;
  for (auto& d : data) d.inheritable = 0;
  return raw::capset(&head, data) == 0;
}

OVZ_CHILD_CODE void setup_stdio(const plan& p) noexcept {
  // Duplicate above 2 first, so that a source that is itself 0, 1 or 2 is not overwritten
  // before it is used.
  int tmp[3];
  for (int i = 0; i < 3; ++i)
    if ((tmp[i] = raw::dup_above(p.stdio[i], 3)) < 0) child_fail(p, step_stdio);
  for (int i = 0; i < 3; ++i)
    if (raw::dup2(tmp[i], i) < 0) child_fail(p, step_stdio);
}

// A time namespace of the (new) user namespace, its clocks set before anyone is in it, and
// then entered: unshare makes it for our children only, setns to it takes us along.
OVZ_CHILD_CODE bool enter_new_time(const plan& p) noexcept {
  if (raw::unshare(CLONE_NEWTIME) != 0) return false;
  int fd = raw::openat(AT_FDCWD, "/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool set = raw::write(fd, p.time_offsets, p.time_offsets_len) ==
                   static_cast<ssize_t>(p.time_offsets_len);
  raw::close(fd);
  if (!set) return false;
  fd = raw::openat(AT_FDCWD, "/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool entered = raw::setns(fd, CLONE_NEWTIME) == 0;
  raw::close(fd);
  return entered;
}

// Groups first, uid last: each of the calls before needs the privileges the last one drops.
OVZ_CHILD_CODE bool become_user(const plan& p) noexcept {
  return raw::setgroups(p.groups.size(), reinterpret_cast<const gid_t*>(p.groups.data())) == 0 &&
         raw::setresgid(p.gid, p.gid, p.gid) == 0 && raw::setresuid(p.uid, p.uid, p.uid) == 0;
}

// The sets a spawn asks for, once the process is its user: setresuid kept the permitted set
// (PR_SET_KEEPCAPS) but cleared the effective one. Ambient capabilities need both the
// permitted and the inheritable bit, so they come last.
OVZ_CHILD_CODE bool set_capability_sets(const plan& p) noexcept {
  __user_cap_header_struct head{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    const int shift = 32 * i;
    data[i].effective = static_cast<std::uint32_t>(p.cap_effective >> shift);
    data[i].permitted = static_cast<std::uint32_t>(p.cap_permitted >> shift);
    data[i].inheritable = static_cast<std::uint32_t>(p.cap_inheritable >> shift);
  }
  if (raw::capset(&head, data) != 0) return false;
  for (unsigned long cap = 0; cap < 64; ++cap)
    if ((p.cap_ambient >> cap) & 1u &&
        raw::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap) != 0)
      return false;
  return true;
}

// The passed descriptors to 3, 4, …: first each copied above every number involved (closed
// on exec), so that no dup2 overwrites one still to be moved, nor the report pipe, which
// moves up too if it is in the way.
OVZ_CHILD_CODE bool place_passed_fds(plan& p) noexcept {
  const int n = static_cast<int>(p.pass_fds.size());
  if (n == 0) return true;
  int top = 3 + n;
  for (int fd : p.pass_fds) top = fd >= top ? fd + 1 : top;
  if (p.report_w >= top) top = p.report_w + 1;
  for (int& fd : p.pass_fds)
    if (fd >= 0 && (fd = raw::dup_above(fd, top)) < 0) return false;
  if (p.report_w >= 3 && p.report_w < 3 + n && (p.report_w = raw::dup_above(p.report_w, top)) < 0)
    return false;
  for (int i = 0; i < n; ++i) {
    const int fd = p.pass_fds[static_cast<std::size_t>(i)];
    if (fd < 0) {
      raw::close(3 + i);  // a gap stays one
    } else if (raw::dup2(fd, 3 + i) < 0) {
      return false;
    }
  }
  return true;
}

// The program is looked for now, so that a missing one fails the spawn rather than the
// later start; then the parent is told, and nobody hears of a failure after the gate.
OVZ_CHILD_CODE void wait_at_gate(plan& p) noexcept {
  int err = ENOENT;
  bool found = false;
  for (std::size_t i = 0; i < p.exec_paths.size() && !found; ++i) {
    found = raw::access_x(p.exec_paths[i]) == 0;
    if (!found && errno != ENOENT && errno != ENOTDIR) err = errno;
  }
  if (!found) {
    errno = err;
    child_fail(p, step_exec);
  }
  child_send(p.report_w, report{report_gated, 0, 0, 0, 0});
  raw::close(p.report_w);
  p.report_w = -1;
  char byte = 0;
  ssize_t n;
  while ((n = raw::read(p.start_gate, &byte, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) raw::exit_group(1);
}

// Exits with the child's exit code (128+N when it was killed by signal N).
[[noreturn]] OVZ_CHILD_CODE void exit_as(pid_t child) noexcept {
  int status = 0;
  while (raw::waitpid(child, &status) < 0)
    if (errno != EINTR) raw::exit_group(127);
  raw::exit_group(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// The rest of the intermediate's life with a monitor: the monitor program, with the console
// socket as descriptor 3 and the spawn's confirmation pipe as 4 (spawn_spec::monitor). The
// report pipe stays open (close-on-exec) so that a failed exec is reported.
[[noreturn]] OVZ_CHILD_CODE void become_monitor(plan& p) noexcept {
  // Everything above the numbers it is to have first, so that no dup2 overwrites one still
  // to be moved.
  const int first_free = 5 + static_cast<int>(p.monitor_fds.size());
  int socket = raw::dup_above(p.monitor_socket, first_free);
  int confirm = raw::dup_above(p.hold_r, first_free);
  int report = raw::dup_above(p.report_w, first_free);
  int null = raw::dup_above(p.devnull, first_free);
  if (socket < 0 || confirm < 0 || report < 0 || null < 0) child_fail(p, step_monitor);
  for (int& fd : p.monitor_fds)
    if ((fd = raw::dup_above(fd, first_free)) < 0) child_fail(p, step_monitor);
  p.report_w = report;
  if (raw::dup2(socket, 3) < 0 || raw::dup2(confirm, 4) < 0) child_fail(p, step_monitor);
  for (std::size_t i = 0; i < p.monitor_fds.size(); ++i)
    if (raw::dup2(p.monitor_fds[i], 5 + static_cast<int>(i)) < 0) child_fail(p, step_monitor);
  for (int i = 0; i < 3; ++i)
    if (raw::dup2(null, i) < 0) child_fail(p, step_monitor);
  raw::close_range(first_free, ~0u, CLOSE_RANGE_CLOEXEC);
  (void)raw::chdir("/");
  // Out of the caller's session and process group, as the VE is: a Ctrl-C or hang-up meant
  // for the caller must not end the monitor of a VE that runs on.
  (void)raw::setsid();
  raw::execve(p.monitor_path, p.monitor_argv.data(), p.monitor_envp.data());
  child_fail(p, step_monitor);
}

}  // namespace

// The final child, born in its cgroup (CLONE_INTO_CGROUP, Linux 5.7, cgroup v2) so that its
// limits hold from its first instruction. Where the kernel refuses that cgroup (an older
// kernel, one that holds controllers for children, a cgroup namespace it lies outside of)
// the child is born in ours, and the parent's `prepare` moves it; out of memory or of PIDs
// it is not born at all.
OVZ_CHILD_CODE pid_t fork_final(const plan& p, unsigned long long flags, int* pidfd) noexcept {
  if (p.cgroup_fd >= 0) {
    pid_t pid = detail::clone3_fork(flags | CLONE_INTO_CGROUP, pidfd, p.cgroup_fd);
    if (pid >= 0 || errno == EAGAIN || errno == ENOMEM) return pid;
  }
  return detail::clone3_fork(flags, pidfd);
}

[[noreturn]] OVZ_CHILD_CODE void child_fail(const plan& p, std::int32_t st) noexcept {
  child_send(p.report_w, report{report_error, st, errno, 0, 0});
  raw::exit_group(127);
}

// Another thread of the parent may have had pipes of its own open at clone time; holding
// their ends would keep its reads from seeing end-of-file, so drop all but our own.
OVZ_CHILD_CODE void close_others(const plan& p) noexcept { close_except(p.keep.data(), p.keep.size()); }

[[noreturn]] OVZ_CHILD_CODE void final_child(plan& p) noexcept {
  wait_release(p.sync_r);
  // Before becoming root of a user namespace, which leaves us not dumpable and our /proc
  // files (timens_offsets) the host root's.
  if (p.time_ns && !enter_new_time(p)) child_fail(p, step_time);
  if (p.userns && !raw::become_root()) child_fail(p, step_ids);
  if (p.cgroup_ns && raw::unshare(CLONE_NEWCGROUP) != 0) child_fail(p, step_cgroupns);
  raw::umask(0);
  if (p.hostname && raw::sethostname(p.hostname, p.hostname_len) != 0)
    child_fail(p, step_hostname);
  if (p.new_mnt && raw::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    child_fail(p, step_private);
  int root = -1;  // the new root as attached, for the steps looked up inside it
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    if (!do_step(p.steps[i], p.new_root, root) && !(p.steps[i].optional && errno == ENOENT))
      child_fail(p, static_cast<std::int32_t>(i));
  }
  if (root >= 0) raw::close(root);
  if (p.pause_before_pivot) {
    child_send(p.report_w, report{report_mounted, 0, 0, 0, 0});
    wait_release(p.sync_r);
  }
  if (p.new_root) {
    if (raw::chdir(p.new_root) != 0 || raw::pivot_root(".", ".") != 0 ||
        raw::umount2(".", MNT_DETACH) != 0)
      child_fail(p, step_pivot);
  }
  if (raw::chdir(p.cwd) != 0) child_fail(p, step_cwd);
  raw::umask(022);
  if (p.pty_socket >= 0) {
    open_pty(p);
  } else if (p.new_session) {
    if (raw::setsid() < 0) child_fail(p, step_stdio);
    (void)raw::ioctl(p.stdio[0], TIOCSCTTY, 0);  // fails harmlessly where stdin is no terminal
  }
  setup_stdio(p);
  if (p.no_new_privs && raw::prctl(PR_SET_NO_NEW_PRIVS, 1) != 0)
    child_fail(p, step_no_new_privs);
  // The filter first, while the child may still install one without no_new_privs; the
  // bounding set last, as nothing after it needs a capability.
  if (p.seccomp.len) {
    const unsigned flags = p.listener_socket >= 0 ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    const int listener = raw::seccomp(SECCOMP_SET_MODE_FILTER, flags, &p.seccomp);
    if (listener < 0) child_fail(p, step_seccomp);
    if (flags) {
      if (!send_fd(p.listener_socket, listener)) child_fail(p, step_seccomp);
      raw::close(listener);
    }
  }
  for (int cap : *p.drop_caps)
    if (raw::prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(cap)) != 0 && errno != EINVAL)
      child_fail(p, step_caps);
  if (!p.drop_caps->empty() && !clear_inherited_capabilities()) child_fail(p, step_caps);
  if (p.set_caps && raw::prctl(PR_SET_KEEPCAPS, 1) != 0) child_fail(p, step_cap_sets);
  if (p.set_user && !become_user(p)) child_fail(p, step_user);
  if (p.set_caps && !set_capability_sets(p)) child_fail(p, step_cap_sets);
  raw::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
  if (p.start_gate >= 0) wait_at_gate(p);
  if (!place_passed_fds(p)) child_fail(p, step_stdio);
  int err = ENOENT;
  for (const char* path : p.exec_paths) {
    raw::execve(path, p.argv.data(), p.envp.data());
    if (errno != ENOENT && errno != ENOTDIR) err = errno;
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) break;
  }
  errno = err;
  child_fail(p, step_exec);
}

// The final child, made in the namespaces to join by a child of ours that enters them and
// makes it our child (CLONE_PARENT): its new namespaces are owned by a joined user namespace,
// as its root needs them to be, while we, the monitor with the host's rights, stay out of it
// (its root could otherwise trace us). Returns in us only.
namespace {
OVZ_CHILD_CODE pid_t fork_joined(plan& p) noexcept {
  int told[2];
  if (raw::pipe2(told, O_CLOEXEC) != 0) return -1;
  const pid_t joiner = detail::clone3_fork(0, nullptr);
  if (joiner == 0) {
    raw::close(told[0]);
    for (std::size_t i = 0; i < p.join_fds.size(); ++i) {
      if (raw::setns(p.join_fds[i], p.join_flags[i]) != 0) child_fail(p, step_join);
      raw::close(p.join_fds[i]);
    }
    pid_t pid = fork_final(p, p.clone_flags | CLONE_PARENT, nullptr);
    if (pid == 0) {
      raw::close(told[1]);
      final_child(p);
    }
    if (pid < 0) child_fail(p, step_fork);
    (void)raw::write(told[1], &pid, sizeof pid);
    raw::exit_group(0);
  }
  raw::close(told[1]);
  pid_t pid = -1;
  const bool got = joiner > 0 && raw::read(told[0], &pid, sizeof pid) == sizeof pid;
  const int err = errno;
  raw::close(told[0]);
  if (joiner < 0) return -1;
  (void)raw::waitpid(joiner, nullptr);
  if (!got) raw::exit_group(127);  // the joiner has reported why
  errno = err;
  return pid;
}
}  // namespace

// A detached monitor outlives the caller, who must not have to reap it: its parent (the
// first child) exits at once, and the host's init (or nearest subreaper) adopts it.
OVZ_CHILD_CODE void leave_caller(const plan& p) noexcept {
  pid_t pid = detail::clone3_fork(0, nullptr);
  if (pid < 0) child_fail(p, step_fork);
  if (pid > 0) raw::exit_group(0);
}

// The first child when the final one must not be our child (detach), must be forked after
// entering a PID namespace (setns only moves future children into it), or has a monitor (the
// first child executes it).
[[noreturn]] OVZ_CHILD_CODE void intermediate_child(plan& p, bool detach) noexcept {
  if (p.target_pidfd >= 0) {
    if (raw::setns(p.target_pidfd, p.setns_flags) != 0) child_fail(p, step_setns);
    raw::close(p.target_pidfd);
    // setns puts us at the top of what is mounted on the namespace's root: the target's
    // root is what lies under it where something is stacked there (a VE's /dev/root).
    if (p.target_root >= 0 && (raw::fchdir(p.target_root) != 0 || raw::chroot(".") != 0))
      child_fail(p, step_setns);
    if (p.target_root >= 0) raw::close(p.target_root);
  }
  pid_t pid = p.join_fds.empty() ? fork_final(p, p.clone_flags, nullptr) : fork_joined(p);
  if (pid == 0) final_child(p);
  if (pid < 0) child_fail(p, step_fork);
  child_send(p.report_w, report{report_pid, 0, 0, pid, static_cast<std::int32_t>(raw::getpid())});
  if (p.monitor_path) {
    // Our copy of the plan: the parent's is not touched.
    with_number(p.monitor_init_arg, "--init=", pid);
    become_monitor(p);
  }
  raw::close(p.report_w);
  raw::close(p.sync_r);
  if (detach) {
    wait_eof(p.hold_r);  // the parent holds the final child by pidfd before we let go
    raw::exit_group(0);
  }
  exit_as(pid);
}

}  // namespace ovz::detail::spawning
