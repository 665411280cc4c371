// Process creation in new or existing namespaces, safe inside multi-threaded programs.
//
// Everything the child needs (argv, envp, paths, mount options, fds) is laid out in a plan
// before clone(); after clone the child runs only async-signal-safe system calls, never
// malloc or a lock another thread of the parent may have held at fork time. Where glibc's
// wrapper would talk to other threads (set*id broadcasts to every thread of the process), the
// raw system call is used. Failures travel back as fixed-size records on a close-on-exec
// pipe: the step that failed and its errno; end-of-file on that pipe means exec succeeded.

#include <ovz/namespaces.hpp>

#include "fail.hpp"
#include "kernel/sys.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace ovz {
namespace {

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
};

enum report_kind : std::int32_t { report_error = 1, report_pid = 2 };

struct report {
  std::int32_t kind;
  std::int32_t step;
  std::int32_t err;
  std::int32_t value;
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
  const char* new_root = nullptr;
  const char* cwd = "/";
  unsigned long long clone_flags = 0;  // namespaces made by clone (not cgroup)
  bool cgroup_ns = false;
  bool new_mnt = false;
  bool userns = false;       // become root of the user namespace made or entered
  bool new_session = false;
  std::array<int, 3> stdio{-1, -1, -1};
  int pty_socket = -1;
  int sync_r = -1;
  int report_w = -1;
  int hold_r = -1;
  int target_pidfd = -1;
  int setns_flags = 0;
  std::vector<int> keep;  // sorted descriptors the children must not close
  const std::vector<int>* drop_caps = nullptr;
  struct sock_fprog seccomp {};
  bool no_new_privs = false;
};

// ---- child side: async-signal-safe only ----

void child_send(int fd, const report& r) noexcept {
  ssize_t n;
  do {
    n = ::write(fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
}

[[noreturn]] void child_fail(const plan& p, std::int32_t st) noexcept {
  child_send(p.report_w, report{report_error, st, errno, 0});
  ::_exit(127);
}

void reset_signals() noexcept {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &sa, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Another thread of the parent may have had pipes of its own open at clone time; holding
// their ends would keep its reads from seeing end-of-file, so drop all but our own.
void close_others(const plan& p) noexcept {
  unsigned first = 3;
  for (int fd : p.keep) {
    if (fd < static_cast<int>(first)) continue;
    if (fd > static_cast<int>(first)) detail::close_range(first, fd - 1, 0);
    first = fd + 1;
  }
  detail::close_range(first, ~0u, 0);
}

void wait_release(int fd) noexcept {
  char c;
  ssize_t n;
  do {
    n = ::read(fd, &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(1);  // the parent gave up on us
}

void wait_eof(int fd) noexcept {
  char c;
  ssize_t n;
  do {
    n = ::read(fd, &c, 1);
  } while (n > 0 || (n < 0 && errno == EINTR));
}

bool do_step(const frozen_step& s) noexcept {
  switch (s.what) {
    case fs_step::kind::mount:
      return ::mount(s.source, s.target, s.fstype, s.flags, s.data) == 0;
    case fs_step::kind::bind:
      return ::mount(s.source, s.target, nullptr, MS_BIND | MS_REC | s.flags, nullptr) == 0;
    case fs_step::kind::remount_ro:
      return ::mount(nullptr, s.target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | s.flags,
                     nullptr) == 0;
    case fs_step::kind::mkdir:
      return ::mkdir(s.target, s.mode) == 0 || errno == EEXIST;
    case fs_step::kind::mknod:
      return ::mknod(s.target, s.mode, s.dev) == 0;
    case fs_step::kind::symlink:
      return ::symlink(s.source, s.target) == 0;
    case fs_step::kind::attach:
      return ::move_mount(s.fd, "", AT_FDCWD, s.target, MOVE_MOUNT_F_EMPTY_PATH) == 0;
  }
  return false;
}

// Opens a terminal in the (new) root's devpts, hands its master to the parent and makes the
// slave our stdio and controlling terminal.
void open_pty(plan& p) noexcept {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child_fail(p, step_pty);
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) child_fail(p, step_pty);
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) child_fail(p, step_pty);
  char byte = 'p';
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(int))];
  std::memset(buf, 0, sizeof buf);
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = buf;
  msg.msg_controllen = sizeof buf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &master, sizeof master);
  if (::sendmsg(p.pty_socket, &msg, MSG_NOSIGNAL) != 1) child_fail(p, step_pty);
  ::close(master);
  p.stdio = {slave, slave, slave};
  if (::setsid() < 0 || ::ioctl(slave, TIOCSCTTY, 0) != 0) child_fail(p, step_pty);
}

// An exec as root gets the inheritable set on top of what the bounding set leaves, and keeps
// the ambient set: a caller holding capabilities there (a service with AmbientCapabilities=)
// would hand the new process back what the bounding set just took.
bool clear_inherited_capabilities() noexcept {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return false;
  __user_cap_header_struct head{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &head, data) != 0) return false;
  for (auto& d : data) d.inheritable = 0;
  return ::syscall(SYS_capset, &head, data) == 0;
}

void setup_stdio(const plan& p) noexcept {
  // Duplicate above 2 first, so that a source that is itself 0, 1 or 2 is not overwritten
  // before it is used.
  int tmp[3];
  for (int i = 0; i < 3; ++i)
    if ((tmp[i] = ::fcntl(p.stdio[i], F_DUPFD_CLOEXEC, 3)) < 0) child_fail(p, step_stdio);
  for (int i = 0; i < 3; ++i)
    if (::dup2(tmp[i], i) < 0) child_fail(p, step_stdio);
}

[[noreturn]] void final_child(plan& p) noexcept {
  wait_release(p.sync_r);
  if (p.userns) {
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0 || ::syscall(SYS_setgroups, 0, nullptr) != 0 ||
        ::syscall(SYS_setresuid, 0, 0, 0) != 0)
      child_fail(p, step_ids);
  }
  if (p.cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0) child_fail(p, step_cgroupns);
  ::umask(0);
  if (p.hostname && ::sethostname(p.hostname, std::strlen(p.hostname)) != 0)
    child_fail(p, step_hostname);
  if (p.new_mnt && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    child_fail(p, step_private);
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    if (!do_step(p.steps[i]) && !(p.steps[i].optional && errno == ENOENT))
      child_fail(p, static_cast<std::int32_t>(i));
  }
  if (p.new_root) {
    if (::chdir(p.new_root) != 0 || detail::pivot_root(".", ".") != 0 ||
        ::umount2(".", MNT_DETACH) != 0)
      child_fail(p, step_pivot);
  }
  if (::chdir(p.cwd) != 0) child_fail(p, step_cwd);
  ::umask(022);
  if (p.pty_socket >= 0) {
    open_pty(p);
  } else if (p.new_session) {
    if (::setsid() < 0) child_fail(p, step_stdio);
    if (::isatty(p.stdio[0])) (void)::ioctl(p.stdio[0], TIOCSCTTY, 0);
  }
  setup_stdio(p);
  if (p.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    child_fail(p, step_no_new_privs);
  // The filter first, while the child may still install one without no_new_privs; the
  // bounding set last, as nothing after it needs a capability.
  if (p.seccomp.len &&
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p.seccomp) != 0)
    child_fail(p, step_seccomp);
  for (int cap : *p.drop_caps)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) child_fail(p, step_caps);
  if (!p.drop_caps->empty() && !clear_inherited_capabilities()) child_fail(p, step_caps);
  detail::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
  int err = ENOENT;
  for (const char* path : p.exec_paths) {
    ::execve(path, const_cast<char* const*>(p.argv.data()),
             const_cast<char* const*>(p.envp.data()));
    if (errno != ENOENT && errno != ENOTDIR) err = errno;
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) break;
  }
  errno = err;
  child_fail(p, step_exec);
}

// The first child when the final one must not be our child (detach) or must be forked after
// entering a PID namespace (setns only moves future children into it).
[[noreturn]] void intermediate_child(plan& p, bool detach) noexcept {
  if (p.target_pidfd >= 0) {
    if (::setns(p.target_pidfd, p.setns_flags) != 0) child_fail(p, step_setns);
    ::close(p.target_pidfd);
  }
  pid_t pid = detail::clone3_fork(p.clone_flags, nullptr);
  if (pid == 0) final_child(p);
  if (pid < 0) child_fail(p, step_fork);
  child_send(p.report_w, report{report_pid, 0, 0, pid});
  ::close(p.report_w);
  ::close(p.sync_r);
  if (detach) {
    wait_eof(p.hold_r);  // the parent holds the final child by pidfd before we let go
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) ::_exit(127);
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
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
  if (!spec.hostname.empty()) p.hostname = spec.hostname.c_str();
  if (!spec.new_root.empty()) p.new_root = spec.new_root.c_str();
  p.cwd = spec.cwd.empty() ? "/" : spec.cwd.c_str();
  p.new_session = spec.new_session;
  p.pty_socket = spec.pty_socket;
  p.drop_caps = &spec.drop_capabilities;
  p.seccomp.len = static_cast<unsigned short>(spec.seccomp.size());
  p.seccomp.filter = const_cast<sock_filter*>(spec.seccomp.data());
  p.no_new_privs = spec.no_new_privs;
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

void reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

result<process> launch(const spawn_spec& spec, int target_pidfd, int setns_flags) {
  if (spec.argv.empty() || spec.argv[0].empty())
    return detail::fail(errc::invalid_argument, "spawn: empty command");
  const bool in_target = target_pidfd >= 0;
  const bool two_stage = spec.detach || in_target;

  plan p;
  freeze(p, spec);
  // A process that enters a user namespace keeps its host ids, which mean nobody there.
  p.userns = spec.namespaces.has(ns_type::user) || (setns_flags & CLONE_NEWUSER);
  p.cgroup_ns = spec.namespaces.has(ns_type::cgroup);
  p.new_mnt = spec.namespaces.has(ns_type::mnt);
  p.clone_flags = static_cast<unsigned long long>(spec.namespaces.flags & ~CLONE_NEWCGROUP);
  p.target_pidfd = target_pidfd;
  p.setns_flags = setns_flags;

  unique_fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return detail::sys_fail(errno, "open /dev/null");
  const int given[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  for (int i = 0; i < 3; ++i) p.stdio[i] = given[i] >= 0 ? given[i] : devnull.get();

  unique_fd sync_r, sync_w, report_r, report_w, hold_r, hold_w;
  BOOST_OUTCOME_TRY(make_pipe(sync_r, sync_w));
  BOOST_OUTCOME_TRY(make_pipe(report_r, report_w));
  if (spec.detach) {
    BOOST_OUTCOME_TRY(make_pipe(hold_r, hold_w));
  }
  p.sync_r = sync_r.get();
  p.report_w = report_w.get();
  p.hold_r = hold_r.get();
  p.keep = {p.sync_r, p.report_w, p.hold_r, devnull.get(), p.stdio[0], p.stdio[1], p.stdio[2],
            target_pidfd, p.pty_socket};
  for (const auto& s : spec.fs)
    if (s.what == fs_step::kind::attach) p.keep.push_back(s.fd);
  std::sort(p.keep.begin(), p.keep.end());

  int first_pidfd = -1;
  unsigned long long first_flags = CLONE_PIDFD | (two_stage ? 0 : p.clone_flags);
  pid_t first = detail::clone3_fork(first_flags, &first_pidfd);
  if (first == 0) {
    reset_signals();
    close_others(p);
    if (two_stage) intermediate_child(p, spec.detach);
    final_child(p);
  }
  if (first < 0) return detail::sys_fail(errno, "clone3 for {}", spec.argv[0]);
  unique_fd first_fd(first_pidfd);
  sync_r.reset();
  report_w.reset();
  hold_r.reset();

  unique_fd final_fd;
  // Through the pidfds, which cannot reach a process that reused the PID. Only where
  // pidfd_open failed is the final child signalled by PID: the intermediate, not yet let go,
  // has not reaped it, so its PID is still its own.
  auto abort = [&](pid_t final_pid, error e) -> result<process> {
    if (final_fd)
      detail::pidfd_send_signal(final_fd.get(), SIGKILL);
    else if (final_pid > 0 && final_pid != first)
      ::kill(final_pid, SIGKILL);
    detail::pidfd_send_signal(first_fd.get(), SIGKILL);
    hold_w.reset();
    sync_w.reset();
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
  }
  if (spec.namespaces.has(ns_type::user)) {
    if (auto ok = write_id_maps(final_pid, spec); !ok) return abort(final_pid, ok.error());
  }
  if (spec.prepare) {
    if (auto ok = spec.prepare(final_pid); !ok) return abort(final_pid, ok.error());
  }
  if (::write(sync_w.get(), "g", 1) != 1)
    return abort(final_pid, detail::sys_fail(errno, "release the child"));
  sync_w.reset();
  auto got = read_report(report_r.get(), r);
  if (!got) return abort(final_pid, got.error());
  if (*got) return abort(final_pid, detail::sys_fail(r.err, "{}", describe(spec, r.step)));

  if (spec.detach) {
    hold_w.reset();
    reap(first);
    return process(final_pid, std::move(final_fd), false);
  }
  return process(first, std::move(first_fd), true);
}

}  // namespace

result<process> spawn(const spawn_spec& spec) { return launch(spec, -1, 0); }

result<process> spawn_in(const process& target, ns_set which, const spawn_spec& spec) {
  if (spec.namespaces.flags || !spec.fs.empty() || !spec.new_root.empty() ||
      !spec.hostname.empty())
    return detail::fail(errc::invalid_argument,
                        "spawn_in: new namespaces, fs steps, root or hostname given");
  return launch(spec, target.pidfd(), which.flags);
}

}  // namespace ovz
