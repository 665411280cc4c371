// Process creation in new or existing namespaces, safe inside multi-threaded programs.
//
// Everything the child needs (argv, envp, paths, mount options, fds) is laid out in a plan
// before clone(); after clone the child makes only raw system calls (kernel/raw.hpp), never
// malloc, a libc wrapper or a lock another thread of the parent may have held at clone
// time. Failures travel back as fixed-size records on a close-on-exec pipe: the step that
// failed and its errno. End-of-file on that pipe means the child exec'd or died before it
// could; its task name tells which.

#include <ovz/namespaces.hpp>

#include "fail.hpp"
#include "kernel/log_writer.hpp"
#include "kernel/proc_stat.hpp"
#include "kernel/raw.hpp"
#include "kernel/seccomp.hpp"
#include "kernel/sys.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <new>

namespace ovz::inline v0 {
namespace {

namespace raw = detail::raw;

// Steps of the child other than the fs steps, which are numbered from 0.
enum step : std::int32_t {
  step_sync = -1,
  step_cgroupns = -2,
  step_hostname = -3,
  step_private = -4,
  step_pivot = -5,
  step_cwd = -6,
  step_stdio = -7,
  step_exec = -8,
  step_setns = -9,
  step_fork = -10,
  step_pty = -11,
  step_ids = -12,
  step_seccomp = -13,
  step_caps = -14,
  step_no_new_privs = -15,
  step_monitor = -17,
  step_console = -18,
  step_time = -19,
};

enum report_kind : std::int32_t { report_error = 1, report_pid = 2 };

struct report {
  std::int32_t kind;
  std::int32_t step;
  std::int32_t err;
  std::int32_t value;
  std::int32_t parent;  // report_pid: the process that forked it (the monitor, if any)
};


struct frozen_step {
  fs_step::kind what;
  bool optional;
  const char* source;
  const char* target;
  const char* fstype;
  unsigned long flags;
  const char* data;
  mode_t mode;
  dev_t dev;
  int fd;
};

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Everything the child reads, as plain pointers into strings owned by the plan or the spec.
struct plan {
  std::vector<std::string> candidates;  // execve paths to try in order (PATH search)
  std::vector<const char*> exec_paths;
  std::vector<const char*> argv;
  std::vector<const char*> envp;
  std::vector<frozen_step> steps;
  const char* hostname = nullptr;
  std::size_t hostname_len = 0;
  const char* new_root = nullptr;
  const char* cwd = "/";
  unsigned long long clone_flags = 0;  // namespaces made by clone (not cgroup)
  bool cgroup_ns = false;
  bool new_mnt = false;
  bool userns = false;       // become root of the user namespace made or entered
  bool new_session = false;
  std::array<int, 3> stdio{-1, -1, -1};
  int pty_socket = -1;
  bool console = false;     // the pty is also bound on /dev/console
  int monitor_socket = -1;  // the monitor's end of pty_socket's pair
  const char* monitor_path = nullptr;
  std::vector<const char*> monitor_argv;
  std::vector<const char*> monitor_envp;
  std::vector<int> monitor_fds;  // its descriptors 5 on
  char monitor_init_arg[32] = {};  // the last of monitor_argv, "--init=PID" once it is known
  int sync_r = -1;
  int report_w = -1;
  int hold_r = -1;
  int devnull = -1;
  int target_pidfd = -1;
  int target_root = -1;  // O_PATH: the target's root, where its mount namespace is entered
  int setns_flags = 0;
  // A new time namespace, made by the final child with these offsets ("monotonic S 0\n
  // boottime S 0\n"), set before any process is in it, as the kernel asks.
  bool time_ns = false;
  const char* time_offsets = nullptr;
  std::size_t time_offsets_len = 0;
  int cgroup_fd = -1;  // the final child is born in this cgroup where the kernel can
  std::vector<int> keep;  // sorted descriptors the children must not close
  const std::vector<int>* drop_caps = nullptr;
  struct sock_fprog seccomp {};
  int listener_socket = -1;  // where the filter's listener goes, if it gets one
  bool no_new_privs = false;
};

// ---- child side: raw system calls only ----

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

OVZ_CHILD_CODE void child_send(int fd, const report& r) noexcept {
  ssize_t n;
  do {
    n = raw::write(fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
}

[[noreturn]] OVZ_CHILD_CODE void child_fail(const plan& p, std::int32_t st) noexcept {
  child_send(p.report_w, report{report_error, st, errno, 0, 0});
  raw::exit_group(127);
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

// Another thread of the parent may have had pipes of its own open at clone time; holding
// their ends would keep its reads from seeing end-of-file, so drop all but our own.
OVZ_CHILD_CODE void close_others(const plan& p) noexcept { close_except(p.keep.data(), p.keep.size()); }

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

OVZ_CHILD_CODE bool do_step(const frozen_step& s) noexcept {
  switch (s.what) {
    case fs_step::kind::mount:
      return raw::mount(s.source, s.target, s.fstype, s.flags, s.data) == 0;
    case fs_step::kind::bind:
      return raw::mount(s.source, s.target, nullptr, MS_BIND | MS_REC | s.flags, nullptr) == 0;
    case fs_step::kind::remount_ro:
      return raw::mount(nullptr, s.target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | s.flags,
                        nullptr) == 0;
    case fs_step::kind::mkdir:
      return raw::mkdir(s.target, s.mode) == 0 || errno == EEXIST;
    case fs_step::kind::mknod:
      return raw::mknod(s.target, s.mode, s.dev) == 0;
    case fs_step::kind::symlink:
      return raw::symlink(s.source, s.target) == 0;
    case fs_step::kind::attach:
      return raw::move_mount(s.fd, "", AT_FDCWD, s.target, MOVE_MOUNT_F_EMPTY_PATH) == 0;
  }
  return false;
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
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    if (!do_step(p.steps[i]) && !(p.steps[i].optional && errno == ENOENT))
      child_fail(p, static_cast<std::int32_t>(i));
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
  raw::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
  int err = ENOENT;
  for (const char* path : p.exec_paths) {
    raw::execve(path, p.argv.data(), p.envp.data());
    if (errno != ENOENT && errno != ENOTDIR) err = errno;
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) break;
  }
  errno = err;
  child_fail(p, step_exec);
}

// Exits with the child's exit code (128+N when it was killed by signal N).
[[noreturn]] OVZ_CHILD_CODE void exit_as(pid_t child) noexcept {
  int status = 0;
  while (raw::waitpid(child, &status) < 0)
    if (errno != EINTR) raw::exit_group(127);
  raw::exit_group(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// A detached monitor outlives the caller, who must not have to reap it: its parent (the
// first child) exits at once, and the host's init (or nearest subreaper) adopts it.
OVZ_CHILD_CODE void leave_caller(const plan& p) noexcept {
  pid_t pid = detail::clone3_fork(0, nullptr);
  if (pid < 0) child_fail(p, step_fork);
  if (pid > 0) raw::exit_group(0);
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
  pid_t pid = fork_final(p, p.clone_flags, nullptr);
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

// ---- parent side ----

std::string describe(const spawn_spec& spec, std::int32_t st) {
  if (st >= 0 && static_cast<std::size_t>(st) < spec.fs.size()) {
    const auto& s = spec.fs[st];
    switch (s.what) {
      case fs_step::kind::mount:
        return fmt::format("mount {} ({}) on {}{}", s.fstype, s.source, s.target,
                           s.data.empty() ? "" : " with " + s.data);
      case fs_step::kind::remount_ro: return fmt::format("remount {} read-only", s.target);
      case fs_step::kind::bind: return fmt::format("bind {} on {}", s.source, s.target);
      case fs_step::kind::mkdir: return fmt::format("mkdir {}", s.target);
      case fs_step::kind::mknod: return fmt::format("mknod {}", s.target);
      case fs_step::kind::symlink: return fmt::format("symlink {} -> {}", s.target, s.source);
      case fs_step::kind::attach: return fmt::format("attach the prepared mount on {}", s.target);
    }
  }
  switch (st) {
    case step_cgroupns: return "unshare the cgroup namespace";
    case step_hostname: return fmt::format("sethostname {}", spec.hostname);
    case step_private: return "make / a private mount";
    case step_pivot: return fmt::format("pivot_root into {}", spec.new_root.string());
    case step_cwd: return fmt::format("chdir {}", spec.cwd);
    case step_stdio: return "set up stdin/stdout/stderr";
    case step_exec: return fmt::format("execute {}", spec.argv.empty() ? "" : spec.argv[0]);
    case step_setns: return "enter the target's namespaces (setns)";
    case step_fork: return "clone the process";
    case step_pty: return "open a pseudo-terminal in /dev/ptmx";
    case step_ids: return "become root of the user namespace";
    case step_seccomp: return "install the seccomp filter";
    case step_caps: return "drop capabilities (bounding, inheritable and ambient sets)";
    case step_no_new_privs: return "set no_new_privs";
    case step_monitor: return fmt::format("execute the monitor {}", spec.monitor.program);
    case step_console: return "bind the console terminal on /dev/console";
    case step_time: return "make a time namespace with the clocks at zero (timens_offsets)";
  }
  return "start";
}

void freeze(plan& p, const spawn_spec& spec) {
  std::string path_var = default_path;
  for (const auto& e : spec.env)
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  const std::string& prog = spec.argv[0];
  if (prog.find('/') != std::string::npos) {
    p.candidates.push_back(prog);
  } else {
    std::size_t start = 0;
    while (start <= path_var.size()) {
      auto end = path_var.find(':', start);
      if (end == std::string::npos) end = path_var.size();
      std::string dir = path_var.substr(start, end - start);
      p.candidates.push_back((dir.empty() ? "." : dir) + "/" + prog);
      start = end + 1;
    }
  }
  for (const auto& c : p.candidates) p.exec_paths.push_back(c.c_str());
  for (const auto& a : spec.argv) p.argv.push_back(a.c_str());
  p.argv.push_back(nullptr);
  for (const auto& e : spec.env) p.envp.push_back(e.c_str());
  p.envp.push_back(nullptr);
  for (const auto& s : spec.fs)
    p.steps.push_back(frozen_step{s.what, s.optional, s.source.empty() ? nullptr : s.source.c_str(),
                                  s.target.c_str(), s.fstype.empty() ? nullptr : s.fstype.c_str(),
                                  s.flags, s.data.empty() ? nullptr : s.data.c_str(),
                                  static_cast<mode_t>(s.mode), static_cast<dev_t>(s.dev), s.fd});
  if (!spec.hostname.empty()) {
    p.hostname = spec.hostname.c_str();
    p.hostname_len = spec.hostname.size();
  }
  if (!spec.new_root.empty()) p.new_root = spec.new_root.c_str();
  p.cwd = spec.cwd.empty() ? "/" : spec.cwd.c_str();
  p.new_session = spec.new_session;
  p.pty_socket = spec.pty_socket;
  p.drop_caps = &spec.drop_capabilities;
  p.seccomp.len = static_cast<unsigned short>(spec.seccomp.size());
  p.seccomp.filter = const_cast<sock_filter*>(spec.seccomp.data());
  if (detail::has_notify_rule(spec.seccomp)) p.listener_socket = spec.seccomp_listener_socket;
  p.no_new_privs = spec.no_new_privs;
  if (!spec.monitor.program.empty()) {
    p.monitor_path = spec.monitor.program.c_str();
    for (const auto& a : spec.monitor.argv) p.monitor_argv.push_back(a.c_str());
    p.monitor_argv.push_back(p.monitor_init_arg);
    p.monitor_argv.push_back(nullptr);
    p.monitor_fds = spec.monitor.fds;
    for (const auto& e : spec.monitor.env) p.monitor_envp.push_back(e.c_str());
    p.monitor_envp.push_back(nullptr);
  }
}

result<void> write_id_maps(pid_t pid, const spawn_spec& spec) {
  auto write_file = [&](const std::string& name, const std::string& text) -> result<void> {
    auto path = fmt::format("/proc/{}/{}", pid, name);
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return detail::sys_fail(errno, "write {} to {}", text, path);
    return success();
  };
  auto lines = [](const std::vector<id_map>& m) {
    std::string s;
    for (const auto& e : m) s += fmt::format("{} {} {}\n", e.inside, e.outside, e.count);
    return s;
  };
  // setgroups stays allowed (we map as a privileged parent), so that the child can drop the
  // supplementary groups it inherited from us.
  BOOST_OUTCOME_TRY(write_file("uid_map", lines(spec.uid_map)));
  BOOST_OUTCOME_TRY(write_file("gid_map", lines(spec.gid_map)));
  return success();
}

result<void> make_pipe(unique_fd& r, unique_fd& w) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return detail::sys_fail(errno, "pipe2");
  r.reset(fds[0]);
  w.reset(fds[1]);
  return success();
}

// Reads one record; false at end-of-file.
result<bool> read_report(int fd, report& r) {
  ssize_t n;
  do {
    n = ::read(fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return detail::sys_fail(errno, "read the child's report pipe");
  if (n == 0) return false;
  if (n != sizeof r) return detail::fail(errc::child_failed, "short report from the child");
  return true;
}

// One byte on the sync pipe lets the child go (or, on the confirmation pipe, tells a monitor
// the spawn succeeded). A child killed meanwhile (its VE stopped during an exec), or a
// monitor that already ended (a foreground init that exited at once), makes that write raise
// SIGPIPE, which would kill a caller that does not ignore it: the signal is blocked for the
// write and the one it raised taken back.
bool release_child(int sync_w, char byte = 'g') {
  sigset_t pipe_only, old;
  ::sigemptyset(&pipe_only);
  ::sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  const bool written = ::write(sync_w, &byte, 1) == 1;
  const int err = errno;
  if (!written && err == EPIPE) {
    const struct timespec now = {0, 0};
    ::sigtimedwait(&pipe_only, nullptr, &now);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return written;
}

void reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// True once the process of `pidfd` has exited (zombies included), waiting up to `timeout`.
bool has_exited(int pidfd, std::chrono::microseconds timeout) {
  struct pollfd pfd = {pidfd, POLLIN, 0};
  const auto us = timeout.count();
  const struct timespec ts = {static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  int r;
  do {
    r = ::ppoll(&pfd, 1, &ts, nullptr);
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

// End-of-file on the report pipe: the child exec'd (the pipe is close-on-exec) or died before
// it could, killed (an out-of-memory kill in the cgroup it was just moved into). execve gives
// it the program's name just after closing the pipe; a child that keeps spawn_child_name to
// its end never ran. A child already reaped (by an intermediate that waits for it) cannot tell:
// it is taken to have run, as its exit code goes to the caller anyway.
result<void> confirm_exec(const spawn_spec& spec, pid_t pid, int pidfd) {
  using std::chrono::milliseconds;
  for (int tries = 0;; ++tries) {
    const bool ended = has_exited(pidfd, milliseconds(tries ? 1 : 0));
    auto st = detail::read_proc_stat(pid);
    if (!st || st->comm != detail::spawn_child_name) return success();
    // A second is plenty for an exec between its close of the pipe and its renaming.
    if (ended || tries == 1000)
      return detail::fail(errc::child_failed, "{} died before it ran: {}", spec.argv[0],
                          st->state == 'Z' ? detail::describe_exit(st->exit_code)
                                           : "it never reached its exec");
  }
}

// A process that ends within spec.settle of its exec did not start: say how it ended. One
// that waits before then (sleeps interruptibly: for its children, a signal, input) has got past
// what makes an init give up at once (its mounts, its configuration), and is up: start need not
// sit out the rest of the window.
result<void> settle(const spawn_spec& spec, pid_t pid, int pidfd) {
  using namespace std::chrono;
  if (spec.settle.count() <= 0) return success();
  const auto until = steady_clock::now() + spec.settle;
  // An ended process reads as a zombie ('Z'), never as waiting.
  for (;;) {
    auto st = detail::read_proc_stat(pid);
    if (st && st->state == 'S' && st->comm != detail::spawn_child_name) return success();
    const auto left = duration_cast<microseconds>(until - steady_clock::now());
    if (left.count() <= 0) return success();
    if (has_exited(pidfd, std::min(left, microseconds(200)))) break;
  }
  auto st = detail::read_proc_stat(pid);
  return detail::fail(errc::child_failed, "{} ran but ended at once: {}", spec.argv[0],
                      st && st->state == 'Z' ? detail::describe_exit(st->exit_code)
                                             : "its exit status is gone");
}

// The offsets that start a new time namespace's monotonic and boot-time clocks at (about)
// zero: the negated readings of the host's clocks. Offsets are the host's to the namespace's,
// so those of the namespace we may be in ourselves come off the readings first.
result<std::string> offsets_to_zero() {
  std::int64_t own[2] = {0, 0};  // monotonic, boottime: whole seconds suffice
  std::ifstream in("/proc/self/timens_offsets");
  for (std::string clock; in >> clock;) {
    std::int64_t s = 0, ns = 0;
    in >> s >> ns;
    if (clock == "monotonic" || clock == "1") own[0] = s;
    if (clock == "boottime" || clock == "7") own[1] = s;
  }
  timespec mono{}, boot{};
  if (::clock_gettime(CLOCK_MONOTONIC, &mono) != 0 || ::clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
    return detail::sys_fail(errno, "clock_gettime");
  return fmt::format("monotonic {} 0\nboottime {} 0\n", own[0] - mono.tv_sec,
                     own[1] - boot.tv_sec);
}

OVZ_CHILD_CODE result<process> launch(const spawn_spec& spec, pid_t target_pid, int target_pidfd,
                       int setns_flags) {
  if (spec.argv.empty() || spec.argv[0].empty())
    return detail::fail(errc::invalid_argument, "spawn: empty command");
  const bool in_target = target_pidfd >= 0;
  const bool monitored = !spec.monitor.program.empty();
  const bool new_time = spec.namespaces.has(ns_type::time);
  const bool two_stage = spec.detach || in_target || monitored;

  plan p;
  freeze(p, spec);
  // A process that enters a user namespace keeps its host ids, which mean nobody there.
  p.userns = spec.namespaces.has(ns_type::user) || (setns_flags & CLONE_NEWUSER);
  p.cgroup_ns = spec.namespaces.has(ns_type::cgroup);
  p.new_mnt = spec.namespaces.has(ns_type::mnt);
  p.clone_flags =
      static_cast<unsigned long long>(spec.namespaces.flags & ~(CLONE_NEWCGROUP | CLONE_NEWTIME));
  std::string time_offsets;
  if (new_time) {
    BOOST_OUTCOME_TRY(offsets, offsets_to_zero());
    time_offsets = std::move(offsets);
    p.time_ns = true;
    p.time_offsets = time_offsets.data();
    p.time_offsets_len = time_offsets.size();
  }
  p.target_pidfd = target_pidfd;
  p.setns_flags = setns_flags;
  unique_fd target_root;
  if (in_target && (setns_flags & CLONE_NEWNS)) {
    target_root.reset(::open(fmt::format("/proc/{}/root", target_pid).c_str(),
                             O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!target_root) return detail::sys_fail(errno, "open the root of PID {}", target_pid);
    p.target_root = target_root.get();
  }
  p.cgroup_fd = spec.cgroup_fd;

  unique_fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return detail::sys_fail(errno, "open /dev/null");
  const int given[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  for (int i = 0; i < 3; ++i) p.stdio[i] = given[i] >= 0 ? given[i] : devnull.get();
  p.devnull = devnull.get();

  unique_fd console_r, console_w;  // the console's master travels from the child to the monitor
  if (monitored) {
    if (::access(spec.monitor.program.c_str(), X_OK) != 0)
      return detail::sys_fail(errno, "the monitor program {}", spec.monitor.program);
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
      return detail::sys_fail(errno, "socketpair for the console");
    console_w.reset(pair[0]);
    console_r.reset(pair[1]);
    p.pty_socket = console_w.get();
    p.console = true;
    if (detail::has_notify_rule(spec.seccomp)) p.listener_socket = p.pty_socket;
    p.monitor_socket = console_r.get();
  }

  unique_fd sync_r, sync_w, report_r, report_w, hold_r, hold_w;
  BOOST_OUTCOME_TRY(make_pipe(sync_r, sync_w));
  BOOST_OUTCOME_TRY(make_pipe(report_r, report_w));
  if (spec.detach || monitored) {
    BOOST_OUTCOME_TRY(make_pipe(hold_r, hold_w));
  }
  p.sync_r = sync_r.get();
  p.report_w = report_w.get();
  p.hold_r = hold_r.get();
  p.keep = {p.sync_r, p.report_w, p.hold_r, devnull.get(), p.stdio[0], p.stdio[1], p.stdio[2],
            target_pidfd, p.target_root, p.pty_socket, p.monitor_socket, p.cgroup_fd,
            p.listener_socket};
  for (const auto& s : spec.fs)
    if (s.what == fs_step::kind::attach) p.keep.push_back(s.fd);
  p.keep.insert(p.keep.end(), p.monitor_fds.begin(), p.monitor_fds.end());
  std::sort(p.keep.begin(), p.keep.end());

  int first_pidfd = -1;
  unsigned long long first_flags = CLONE_PIDFD | (two_stage ? 0 : p.clone_flags);
  pid_t first = two_stage ? detail::clone3_fork(first_flags, &first_pidfd)
                          : fork_final(p, first_flags, &first_pidfd);
  if (first == 0) {
    raw::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(detail::spawn_child_name));
    raw::reset_signals();
    close_others(p);
    if (two_stage) {
      if (spec.detach && monitored) leave_caller(p);
      intermediate_child(p, spec.detach);
    }
    final_child(p);
  }
  if (first < 0) return detail::sys_fail(errno, "clone3 for {}", spec.argv[0]);
  unique_fd first_fd(first_pidfd);
  sync_r.reset();
  report_w.reset();
  hold_r.reset();
  console_r.reset();
  console_w.reset();

  std::optional<process> monitor;
  unique_fd final_fd;
  // Through the pidfds, which cannot reach a process that reused the PID. Only where
  // pidfd_open failed is the final child signalled by PID: the intermediate, not yet let go,
  // has not reaped it, so its PID is still its own.
  auto abort = [&](pid_t final_pid, error e) -> result<process> {
    if (final_fd)
      detail::pidfd_send_signal(final_fd.get(), SIGKILL);
    else if (final_pid > 0 && final_pid != first)
      ::kill(final_pid, SIGKILL);
    hold_w.reset();
    sync_w.reset();
    if (monitor) {
      // Once the child is gone and the confirmation pipe closed, the monitor writes the last
      // of the console (what a child that ended at once said) and ends.
      detail::finish_writer(*monitor);
    } else {
      detail::pidfd_send_signal(first_fd.get(), SIGKILL);
    }
    reap(first);
    return e;
  };

  pid_t final_pid = first;
  report r{};
  if (two_stage) {
    auto got = read_report(report_r.get(), r);
    if (!got) return abort(0, got.error());
    if (!*got || r.kind != report_pid) {
      error e = *got ? detail::sys_fail(r.err, "{}", describe(spec, r.step))
                     : detail::fail(errc::child_failed, "the child exited before starting {}",
                                    spec.argv[0]);
      return abort(0, e);
    }
    final_pid = r.value;
    // Valid while the intermediate has not reaped it, which it does only after we let go.
    final_fd.reset(detail::pidfd_open(final_pid));
    if (!final_fd) return abort(final_pid, detail::sys_fail(errno, "pidfd_open {}", final_pid));
    if (monitored) {
      // Alive: a monitor ends only after the final child, which waits for our release.
      auto m = process::open(r.parent);
      if (!m) return abort(final_pid, m.error());
      monitor = std::move(*m);
    }
  }
  if (spec.namespaces.has(ns_type::user)) {
    if (auto ok = write_id_maps(final_pid, spec); !ok) return abort(final_pid, ok.error());
  }
  if (spec.nofile) {
    // From here rather than in the child: raising a hard limit needs CAP_SYS_RESOURCE in the
    // host's user namespace, which a child already in the VE's no longer has.
    const struct rlimit lim = {spec.nofile->soft, spec.nofile->hard};
    if (::prlimit(final_pid, RLIMIT_NOFILE, &lim, nullptr) != 0)
      return abort(final_pid, detail::sys_fail(errno, "set RLIMIT_NOFILE {}:{} of PID {}",
                                               lim.rlim_cur, lim.rlim_max, final_pid));
  }
  if (spec.prepare) {
    if (auto ok = spec.prepare(final_pid); !ok) return abort(final_pid, ok.error());
  }
  if (!release_child(sync_w.get()))
    return abort(final_pid, detail::sys_fail(errno, "release the child"));
  sync_w.reset();
  auto got = read_report(report_r.get(), r);
  if (!got) return abort(final_pid, got.error());
  if (*got) return abort(final_pid, detail::sys_fail(r.err, "{}", describe(spec, r.step)));
  const int final_pidfd = two_stage ? final_fd.get() : first_fd.get();
  if (auto ran = confirm_exec(spec, final_pid, final_pidfd); !ran)
    return abort(final_pid, ran.error());
  if (auto up = settle(spec, final_pid, final_pidfd); !up) return abort(final_pid, up.error());

  // A foreground monitor may be gone already, with the init it waited for.
  if (monitored && !release_child(hold_w.get(), 'y') && (spec.detach || errno != EPIPE))
    return abort(final_pid, detail::sys_fail(errno, "confirm the start to the monitor"));
  if (spec.detach) {
    hold_w.reset();
    reap(first);
    return process(final_pid, std::move(final_fd), false);
  }
  return process(first, std::move(first_fd), true);
}

}  // namespace

result<process> spawn(const spawn_spec& spec) { return launch(spec, 0, -1, 0); }

result<process> spawn_in(const process& target, ns_set which, const spawn_spec& spec) {
  if (spec.namespaces.flags || !spec.fs.empty() || !spec.new_root.empty() ||
      !spec.hostname.empty())
    return detail::fail(errc::invalid_argument,
                        "spawn_in: new namespaces, fs steps, root or hostname given");
  return launch(spec, target.pid(), target.pidfd(), which.flags);
}

}  // namespace ovz::inline v0
