// Process creation in new or existing namespaces, safe inside multi-threaded programs.
//
// Everything the children need (argv, envp, paths, mount options, fds) is laid out in a
// plan before they are made (kernel/spawn_plan.hpp); they follow it with raw system calls
// only. The first child is libovz's helper program where the spec names one
// (kernel/spawn_wire.hpp), otherwise a fork of ours. Failures travel back as fixed-size
// records on a close-on-exec pipe: the step that failed and its errno. End-of-file on that
// pipe means the child exec'd or died before it could; its task name tells which.

#include <ovz/namespaces.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/host_nodes.hpp"
#include "kernel/idmap.hpp"
#include "kernel/log_writer.hpp"
#include "kernel/proc_stat.hpp"
#include "kernel/raw.hpp"
#include "kernel/seccomp.hpp"
#include "kernel/spawn_server.hpp"
#include "kernel/spawn_wire.hpp"
#include "kernel/spawn_plan.hpp"
#include "kernel/sys.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace ovz::inline v0 {
namespace {

namespace raw = detail::raw;
using namespace detail::spawning;

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string describe(const spawn_spec& spec, std::int32_t st) {
  if (st >= 0 && static_cast<std::size_t>(st) < spec.fs.size()) {
    const auto& s = spec.fs[st];
    switch (s.what) {
      case fs_step::kind::mount:
        return fmt::format("mount {} ({}) on {}{}", s.fstype, s.source, s.target,
                           s.data.empty() ? "" : " with " + s.data);
      case fs_step::kind::remount_ro: return fmt::format("remount {} read-only", s.target);
      case fs_step::kind::remount: return fmt::format("remount {}", s.target);
      case fs_step::kind::bind: return fmt::format("bind {} on {}", s.source, s.target);
      case fs_step::kind::mkdir: return fmt::format("mkdir {}", s.target);
      case fs_step::kind::mknod: return fmt::format("mknod {}", s.target);
      case fs_step::kind::symlink: return fmt::format("symlink {} -> {}", s.target, s.source);
      case fs_step::kind::attach: return fmt::format("attach the prepared mount on {}", s.target);
      case fs_step::kind::mask: return fmt::format("mask {}", s.target);
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
    case step_cap_sets:
      return "set the capability sets (capset of effective, permitted and inheritable; ambient "
             "raised)";
    case step_no_new_privs: return "set no_new_privs";
    case step_monitor: return fmt::format("execute the monitor {}", spec.monitor.program);
    case step_console: return "bind the console terminal on /dev/console";
    case step_time: return "make a time namespace with the clocks at zero (timens_offsets)";
    case step_join: return "enter the namespaces to join (setns)";
    case step_user:
      return spec.user ? fmt::format("become uid {} gid {} (setgroups, setresgid, setresuid)",
                                     spec.user->uid, spec.user->gid)
                       : "become the user";
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
                                  static_cast<mode_t>(s.mode), static_cast<dev_t>(s.dev), s.uid,
                                  s.gid, s.fd, s.in_root});
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
  p.start_gate = spec.start_gate;
  p.pause_before_pivot = static_cast<bool>(spec.before_pivot);
  // A user namespace last: entered first, it would leave no privilege over the namespaces
  // the host's user namespace owns (a pod's network kept on the host's side).
  for (bool user : {false, true})
    for (const auto& j : spec.join)
      if ((j.type == ns_type::user) == user) {
        p.join_fds.push_back(j.fd);
        p.join_flags.push_back(clone_flag(j.type));
      }
  if (spec.user) {
    p.set_user = true;
    p.uid = spec.user->uid;
    p.gid = spec.user->gid;
    for (gid_t g : spec.user->groups) p.groups.push_back(static_cast<int>(g));
  }
  p.pass_fds = spec.pass_fds;
  if (spec.capabilities) {
    p.set_caps = true;
    p.cap_effective = spec.capabilities->effective;
    p.cap_permitted = spec.capabilities->permitted;
    p.cap_inheritable = spec.capabilities->inheritable;
    p.cap_ambient = spec.capabilities->ambient;
  }
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

// The device nodes of a process in a user namespace of its own are the host's to make; each
// mknod step gets the one made for it.
result<std::vector<unique_fd>> make_device_nodes(const spawn_spec& spec, plan& p) {
  std::vector<detail::host_node> nodes;
  std::vector<std::size_t> steps;
  for (std::size_t i = 0; i < spec.fs.size(); ++i) {
    const fs_step& s = spec.fs[i];
    if (s.what != fs_step::kind::mknod || !(S_ISCHR(s.mode) || S_ISBLK(s.mode))) continue;
    const auto uid = detail::mapped_id(spec.uid_map, s.uid);
    const auto gid = detail::mapped_id(spec.gid_map, s.gid);
    if (!uid || !gid)
      return detail::fail(errc::invalid_argument,
                          "spawn: the owner {}:{} of {} is not mapped in its user namespace",
                          s.uid, s.gid, s.target);
    nodes.push_back({static_cast<mode_t>(s.mode), static_cast<dev_t>(s.dev), *uid, *gid});
    steps.push_back(i);
  }
  BOOST_OUTCOME_TRY(made, detail::make_host_nodes(nodes));
  for (std::size_t k = 0; k < steps.size(); ++k) p.steps[steps[k]].fd = made[k].get();
  return std::move(made);
}

// A bind with an idmap is made here, in the caller's mount namespace, as an idmapped copy of
// its source, which the child attaches in its place: one user namespace per pair of maps.
result<std::vector<unique_fd>> make_idmapped_binds(const spawn_spec& spec, plan& p) {
  std::vector<unique_fd> held;
  std::vector<std::pair<const fs_step*, int>> made_for;
  for (std::size_t i = 0; i < spec.fs.size(); ++i) {
    const fs_step& s = spec.fs[i];
    if (s.what != fs_step::kind::bind || (s.idmap_uids.empty() && s.idmap_gids.empty())) continue;
    auto same = std::find_if(made_for.begin(), made_for.end(), [&](const auto& m) {
      return m.first->idmap_uids == s.idmap_uids && m.first->idmap_gids == s.idmap_gids;
    });
    int userns = same == made_for.end() ? -1 : same->second;
    if (userns < 0) {
      BOOST_OUTCOME_TRY(ns, detail::userns_with_maps(s.idmap_uids, s.idmap_gids));
      userns = ns.get();
      made_for.emplace_back(&s, userns);
      held.push_back(std::move(ns));
    }
    const auto depth = !(s.flags & MS_REC)  ? detail::idmap_depth::mount
                       : s.idmap_recursive ? detail::idmap_depth::tree
                                           : detail::idmap_depth::tree_top;
    const auto needed_for = fmt::format("the idmapped bind of {} on {} needs", s.source, s.target);
    BOOST_OUTCOME_TRY(tree, detail::idmapped_tree(s.source, userns, needed_for, depth));
    p.steps[i].what = fs_step::kind::attach;
    p.steps[i].fd = tree.get();
    held.push_back(std::move(tree));
  }
  return held;
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
// sit out the rest of the window. A pid namespace's init that is exiting sleeps too (in
// zap_pid_ns_processes, until its namespace's other pids are freed): that is no wait of its own.
result<void> settle(const spawn_spec& spec, pid_t pid, int pidfd) {
  using namespace std::chrono;
  if (spec.settle.count() <= 0) return success();
  const auto until = steady_clock::now() + spec.settle;
  // An ended process reads as a zombie ('Z'), never as waiting.
  for (;;) {
    auto st = detail::read_proc_stat(pid);
    if (st && st->state == 'S' && !st->exiting && st->comm != detail::spawn_child_name)
      return success();
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

// The first child as a fork of ours: the final child itself, or the intermediate that forks it.
OVZ_CHILD_CODE pid_t fork_first(plan& p, bool two_stage, bool detach, bool monitored,
                                int* pidfd) noexcept {
  const unsigned long long flags = CLONE_PIDFD | (two_stage ? 0 : p.clone_flags);
  const pid_t pid = two_stage ? detail::clone3_fork(flags, pidfd) : fork_final(p, flags, pidfd);
  if (pid == 0) {
    raw::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(detail::spawn_child_name));
    raw::reset_signals();
    close_others(p);
    if (two_stage) {
      if (detach && monitored) leave_caller(p);
      intermediate_child(p, detach);
    }
    final_child(p);
  }
  return pid;
}

struct started_helper {
  pid_t pid;
  unique_fd pidfd;
};

// The first child as libovz's helper program started for this spawn alone, which reads the
// plan from a pipe and gets the plan's descriptors under their numbers (the rest it closes).
result<started_helper> start_helper(const std::string& helper, const plan& p, bool detach) {
  unique_fd plan_r, plan_w;
  BOOST_OUTCOME_TRY(make_pipe(plan_r, plan_w));
  auto fds = detail::passed_fds(p);
  fds.push_back(plan_r.get());
  BOOST_OUTCOME_TRY(pid, detail::start_helper_program(helper, detail::spawn_child_name,
                                                      fmt::format("--spawn={}", plan_r.get()),
                                                      fds));
  plan_r.reset();
  started_helper s{pid, unique_fd(detail::pidfd_open(pid))};
  const bool sent = s.pidfd && detail::write_all_quietly(plan_w.get(), detail::encode_plan(p, detach));
  if (!sent) {
    const int e = errno;
    ::kill(pid, SIGKILL);
    reap(pid);
    return detail::sys_fail(e, "hand the spawn's plan to the helper {} (PID {})", helper, pid);
  }
  return s;
}

// The first child from the caller's spawn server, or from the helper started for this spawn
// alone where the server cannot take the plan (too many descriptors, a message too large).
result<started_helper> start_first_child(const std::string& helper, const plan& p, bool detach) {
  const auto fds = detail::passed_fds(p);
  if (fds.size() <= detail::max_passed_fds) {
    auto served = detail::serve_spawn(helper, detail::encode_plan(p, detach), fds);
    if (served) return started_helper{served->pid, std::move(served->pidfd)};
    if (served.error().sys_errno() != EMSGSIZE) return served.error();
  }
  return start_helper(helper, p, detach);
}

result<process> launch(const spawn_spec& spec, pid_t target_pid, int target_pidfd,
                       int setns_flags) {
  if (spec.argv.empty() || spec.argv[0].empty())
    return detail::fail(errc::invalid_argument, "spawn: empty command");
  for (const auto& j : spec.join)
    if (j.fd < 0 || spec.namespaces.has(j.type) || j.type == ns_type::mnt)
      return detail::fail(errc::invalid_argument, "spawn: cannot join the {} namespace given",
                          ns_name(j.type));
  const bool in_target = target_pidfd >= 0;
  const bool monitored = !spec.monitor.program.empty();
  const bool new_time = spec.namespaces.has(ns_type::time);
  const bool two_stage = spec.detach || in_target || monitored || !spec.join.empty();

  plan p;
  freeze(p, spec);
  // A process that enters a user namespace keeps its host ids, which mean nobody there.
  const bool joins_user = std::any_of(spec.join.begin(), spec.join.end(),
                                      [](const ns_join& j) { return j.type == ns_type::user; });
  p.userns = spec.namespaces.has(ns_type::user) || joins_user || (setns_flags & CLONE_NEWUSER);
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
  // What the host makes for the child's steps (nodes, idmapped binds), held until it is done.
  std::vector<unique_fd> host_made;
  if (spec.namespaces.has(ns_type::user) || joins_user) {
    BOOST_OUTCOME_TRY(made, make_device_nodes(spec, p));
    host_made = std::move(made);
  }
  BOOST_OUTCOME_TRY(binds, make_idmapped_binds(spec, p));
  std::move(binds.begin(), binds.end(), std::back_inserter(host_made));

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
            p.listener_socket, p.start_gate};
  p.keep.insert(p.keep.end(), p.join_fds.begin(), p.join_fds.end());
  p.keep.insert(p.keep.end(), p.pass_fds.begin(), p.pass_fds.end());
  for (const auto& s : p.steps)
    if (s.fd >= 0) p.keep.push_back(s.fd);
  p.keep.insert(p.keep.end(), p.monitor_fds.begin(), p.monitor_fds.end());
  std::sort(p.keep.begin(), p.keep.end());

  int first_pidfd = -1;
  pid_t first = -1;
  if (two_stage && !spec.helper.empty()) {
    BOOST_OUTCOME_TRY(helper, start_first_child(spec.helper, p, spec.detach));
    first = helper.pid;
    first_pidfd = helper.pidfd.release();
  } else {
    first = fork_first(p, two_stage, spec.detach, monitored, &first_pidfd);
    if (first < 0) return detail::sys_fail(errno, "clone3 for {}", spec.argv[0]);
  }
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
    // A child that is not ours (the first child forked it) dies when the kernel gets to the
    // kill, and its new parent reaps it: the spawn has failed once it is gone, so that nothing
    // it made outlives the error.
    if (final_fd) (void)has_exited(final_fd.get(), std::chrono::seconds(5));
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
  for (const auto& r : spec.rlimits) {
    const struct rlimit lim = {r.limit.soft, r.limit.hard};
    if (::prlimit(final_pid, static_cast<__rlimit_resource>(r.resource), &lim, nullptr) != 0)
      return abort(final_pid, detail::sys_fail(errno, "set resource limit {} to {}:{} of PID {}",
                                               r.resource, lim.rlim_cur, lim.rlim_max, final_pid));
  }
  if (spec.prepare) {
    if (auto ok = spec.prepare(final_pid); !ok) return abort(final_pid, ok.error());
  }
  if (!detail::write_all_quietly(sync_w.get(), "g"))
    return abort(final_pid, detail::sys_fail(errno, "release the child"));
  if (spec.before_pivot) {
    auto mounted = read_report(report_r.get(), r);
    if (!mounted) return abort(final_pid, mounted.error());
    if (!*mounted)
      return abort(final_pid, detail::fail(errc::child_failed, "{} died before its pivot_root",
                                           spec.argv[0]));
    if (r.kind != report_mounted)
      return abort(final_pid, detail::sys_fail(r.err, "{}", describe(spec, r.step)));
    if (auto ok = spec.before_pivot(final_pid); !ok) return abort(final_pid, ok.error());
    if (!detail::write_all_quietly(sync_w.get(), "g"))
      return abort(final_pid, detail::sys_fail(errno, "release the child again"));
  }
  sync_w.reset();
  auto got = read_report(report_r.get(), r);
  if (!got) return abort(final_pid, got.error());
  const bool gated = *got && r.kind == report_gated && spec.start_gate >= 0;
  if (*got && !gated)
    return abort(final_pid, detail::sys_fail(r.err, "{}", describe(spec, r.step)));
  if (!*got && spec.start_gate >= 0)
    return abort(final_pid, detail::fail(errc::child_failed, "{} died before its start gate",
                                         spec.argv[0]));
  const int final_pidfd = two_stage ? final_fd.get() : first_fd.get();
  if (!gated) {
    if (auto ran = confirm_exec(spec, final_pid, final_pidfd); !ran)
      return abort(final_pid, ran.error());
    if (auto up = settle(spec, final_pid, final_pidfd); !up) return abort(final_pid, up.error());
  }

  // A foreground monitor may be gone already, with the init it waited for.
  if (monitored && !detail::write_all_quietly(hold_w.get(), "y") && (spec.detach || errno != EPIPE))
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
