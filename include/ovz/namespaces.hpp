#pragma once
/// @file
/// Linux namespaces: handles to them, processes created in new ones, and entering existing ones.
///
/// Process creation here is safe in multi-threaded programs: everything the child needs is
/// prepared before clone(), and the child makes only async-signal-safe system calls (no
/// allocation, no locks) until it execs.

#include <ovz/export.hpp>
#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <linux/filter.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ovz::inline v0 {

/// `time`: the monotonic and boot-time clocks (uptime) with offsets of their own; a spawn
/// with it starts them near zero, as a machine that just booted has them.
enum class ns_type { mnt, uts, ipc, net, pid, cgroup, user, time };

/// The CLONE_NEW* flag of a namespace type.
OVZ_API int clone_flag(ns_type t) noexcept;
/// The name under /proc/PID/ns/ ("mnt", "uts", …).
OVZ_API const char* ns_name(ns_type t) noexcept;

/// A set of namespace types, as a mask of CLONE_NEW* flags.
struct ns_set {
  int flags = 0;
  ns_set& add(ns_type t) noexcept { flags |= clone_flag(t); return *this; }
  bool has(ns_type t) const noexcept { return flags & clone_flag(t); }
  /// PID, mount, UTS, IPC, network and cgroup: what a VE gets without a user namespace.
  static ns_set ve_default() noexcept;
};

/// An open namespace (an fd of /proc/PID/ns/NAME).
class OVZ_API ns_handle {
 public:
  static result<ns_handle> open(pid_t pid, ns_type type);
  ns_type type() const noexcept { return type_; }
  int fd() const noexcept { return fd_.get(); }
  /// The namespace's inode number: two handles with the same inode are the same namespace.
  result<std::uint64_t> inode() const;

 private:
  ns_handle(unique_fd fd, ns_type t) : fd_(std::move(fd)), type_(t) {}
  unique_fd fd_;
  ns_type type_;
};

/// A process, held by a pidfd so that signals can never reach a recycled PID.
class OVZ_API process {
 public:
  /// Opens a pidfd for an existing process.
  static result<process> open(pid_t pid);
  /// Adopts a pidfd; `is_child` says whether this process may wait() for it.
  process(pid_t pid, unique_fd pidfd, bool is_child) noexcept
      : pid_(pid), fd_(std::move(pidfd)), child_(is_child) {}

  pid_t pid() const noexcept { return pid_; }
  int pidfd() const noexcept { return fd_.get(); }

  result<void> signal(int sig) const;
  /// Waits until the process has exited (or until timeout); true if it exited. Works for
  /// any process, not only children.
  result<bool> wait_exit(std::chrono::milliseconds timeout) const;
  /// Reaps a child and returns its exit code (128+N when killed by signal N).
  result<int> wait();

 private:
  pid_t pid_ = 0;
  unique_fd fd_;
  bool child_ = false;
};

/// uid/gid map line for a user namespace: `count` ids from `inside` map to `outside` on the host.
struct id_map {
  std::uint32_t inside = 0;
  std::uint32_t outside = 0;
  std::uint32_t count = 1;
  friend bool operator==(const id_map&, const id_map&) = default;
};

/// One step the child takes in its new mount namespace before pivoting its root, in order.
struct fs_step {
  /// bind: source on target, with what is below source when flags has MS_REC (runc's rbind).
  /// remount: the mount on target (a bind) with exactly the flags (MS_RDONLY, MS_NOSUID, …);
  /// remount_ro: the same with MS_RDONLY; either keeps the flags a user namespace may not
  /// clear. attach: move_mount the detached mount `fd` (open_tree/fsmount) onto target. mask:
  /// hide target, /dev/null bound on a file, an empty read-only tmpfs on a directory. mknod
  /// of a regular file (S_IFREG) leaves one that is there.
  enum class kind { mount, bind, mkdir, mknod, symlink, remount_ro, attach, mask, remount };
  kind what = kind::mount;
  std::string source;  ///< mount: source; symlink: target the link points to
  std::string target;  ///< the path acted on
  std::string fstype;  ///< mount only
  unsigned long flags = 0;  ///< mount flags (MS_*)
  std::string data;    ///< mount options
  unsigned mode = 0;   ///< mkdir/mknod mode (mknod includes S_IFCHR etc.)
  unsigned long dev = 0;  ///< mknod device number (makedev)
  /// mknod: the node's owner, as ids of the process's user namespace. A device node of a
  /// process in a user namespace of its own is made by the host (which maps the owner) and
  /// attached.
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  /// A target that does not exist (ENOENT) is skipped rather than an error: masking
  /// /proc/timer_stats on a kernel that has none.
  bool optional = false;
  int fd = -1;  ///< attach only: the caller keeps it open until spawn returns
  /// bind only: the bind shows its files' owners shifted by these maps (an idmapped mount,
  /// Linux 5.12, made by spawn in the caller's mount namespace and attached): a file the
  /// filesystem says is `inside`'s shows as `outside`'s. Empty: a plain bind.
  std::vector<id_map> idmap_uids{};
  std::vector<id_map> idmap_gids{};
  /// With MS_REC in `flags` and an idmap: the mounts below the bind are shifted too.
  bool idmap_recursive = false;
  /// The target lies below spec.new_root and is looked up inside it (openat2's
  /// RESOLVE_IN_ROOT): a symbolic link or ".." in a root its owner made (an OCI image) leads
  /// nowhere outside it.
  bool in_root = false;
};

/// A program that becomes the spawned process's parent, in place of spawn's intermediate
/// process: see spawn_spec::monitor.
struct process_monitor {
  std::string program;            ///< an absolute path; empty: no monitor
  std::vector<std::string> argv;  ///< argv[0] included
  std::vector<std::string> env;
  /// More descriptors it gets, as 5, 6, … in this order (a listening socket made before the
  /// spawn, so that clients may connect as soon as it returns).
  std::vector<int> fds;
};

/// A resource limit as setrlimit takes it.
struct resource_limit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

/// Another resource limit than RLIMIT_NOFILE (RLIMIT_NPROC, RLIMIT_CORE, …).
struct process_rlimit {
  int resource = 0;  ///< RLIMIT_*
  resource_limit limit{};
};

/// The ids a process runs as, set after everything that needs root and before its exec.
/// A process's capability sets other than the bounding set, as masks of CAP_* bits.
struct capability_sets {
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;
  std::uint64_t ambient = 0;
};

struct process_user {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups{};  ///< supplementary groups (setgroups)
};

/// An existing namespace a new process is made in: an open namespace file (/proc/PID/ns/net,
/// a bind mount of one such as /run/netns/NAME).
struct ns_join {
  ns_type type = ns_type::net;
  int fd = -1;
};

/// What a new process gets.
struct spawn_spec {
  std::vector<std::string> argv;  ///< argv[0] is the program path (no PATH search)
  std::vector<std::string> env;
  std::string cwd = "/";
  ns_set namespaces;             ///< new namespaces; cgroup namespace is entered after `prepare`
  /// Existing namespaces the process is made in (not of a type in `namespaces`; not mount).
  /// A child of the first enters them, the user namespace last, and forks the process, whose
  /// new namespaces that user namespace then owns; the first child stays where it was. A
  /// process joining a user namespace becomes its root; `uid_map` and `gid_map` then give that
  /// namespace's maps (not written: the host makes the process's device nodes by them).
  std::vector<ns_join> join;
  std::string hostname;          ///< set in the new UTS namespace when not empty
  std::vector<id_map> uid_map;   ///< with a user namespace
  std::vector<id_map> gid_map;
  std::vector<fs_step> fs;       ///< done in the new mount namespace, before pivot_root
  std::filesystem::path new_root;  ///< pivot_root into this when not empty
  int stdin_fd = -1;             ///< -1: /dev/null
  /// Descriptors of the caller that become the process's 3, 4, … in this order, open across
  /// its exec (runc's --preserve-fds); -1 leaves that number closed. Every other from 3 up is
  /// closed.
  std::vector<int> pass_fds;
  int stdout_fd = -1;
  int stderr_fd = -1;
  bool new_session = false;      ///< setsid(); with a terminal on stdin, it becomes the ctty
  /// When >= 0, a SOCK_SEQPACKET/STREAM socket: the child opens a pseudo-terminal in the
  /// devpts of its (new) root, makes it its stdio and controlling terminal, and sends the
  /// master side over this socket (SCM_RIGHTS). stdin/stdout/stderr_fd are ignored then.
  int pty_socket = -1;
  /// With a program, the process is forked by an intermediate that then executes it: the
  /// process's parent is that program, which sees its exit status. It starts with stdio on
  /// /dev/null, its own session, cwd /, and the descriptors: 3, a socket on which the process
  /// sends the master side of its console (a pseudo-terminal opened in the devpts of its new
  /// root, bound on its /dev/console and made its stdio and controlling terminal; end-of-file
  /// if it died before; then, where its seccomp filter has a listener, that listener), and 4,
  /// a pipe that gets one byte 'y' once the spawn has succeeded, or
  /// end-of-file without it when the spawn was given up (the program must not clean up after
  /// the process then: the caller does); 5 on, `monitor.fds`. Its argv ends in "--init=PID".
  /// `pty_socket` and the stdio fds are ignored.
  process_monitor monitor;
  /// libovz's helper program (its ovz-monitor), or empty. Where a spawn needs a first child
  /// beside the process (a monitor, detach, spawn_in), that child is this program, started
  /// with posix_spawn (no copy of the caller's address space), which forks the process from
  /// its own small image. Empty: the first child is a fork of the caller, which copies the
  /// caller's page tables and makes each page it writes afterwards fault, the dearer the
  /// larger the caller.
  std::string helper;
  /// Not a child of the caller: reparented to the host's init (or the nearest subreaper), so
  /// a long-running caller has nothing to reap. Its exit code is not available then.
  bool detach = false;
  /// Capabilities (CAP_* numbers) removed from the bounding set just before exec: the
  /// process, root or not, and everything it runs can never hold them again.
  std::vector<int> drop_capabilities;
  /// A classic BPF seccomp program installed just before exec (empty: none). It is set with
  /// the privileges the child still has then, so no_new_privs is not required.
  std::vector<sock_filter> seccomp;
  /// When >= 0 and `seccomp` hands calls to a supervisor (SECCOMP_RET_USER_NOTIF), a socket:
  /// the filter is installed with a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), which is
  /// sent over it (SCM_RIGHTS) before the exec, for the process at its other end to answer
  /// those calls. With a monitor, the listener goes to the monitor instead, on its descriptor
  /// 3 after the console. Without either, those calls fail with ENOSYS.
  int seccomp_listener_socket = -1;
  /// PR_SET_NO_NEW_PRIVS before exec: setuid and file capabilities no longer raise privileges.
  bool no_new_privs = false;
  /// When >= 0, the process waits here before its exec until a byte can be read, once every
  /// other step is done and the program is found executable: spawn returns while it waits,
  /// and whoever writes the byte lets it run (an OCI runtime's `create`, then `start`).
  /// End-of-file instead ends it with status 1. spec.settle does not apply.
  int start_gate = -1;
  /// After the exec, wait this long: a process that exits meanwhile is a failed spawn, whose
  /// error says how it ended (and the monitor has written its last output by then).
  std::chrono::milliseconds settle{0};
  /// RLIMIT_NOFILE of the process, set by the caller (prlimit) while the child waits, before
  /// it runs anything; unset: inherited from the caller.
  std::optional<resource_limit> nofile;
  /// More resource limits, set the same way.
  std::vector<process_rlimit> rlimits;
  /// The uid, gid and groups it runs as (in its user namespace, where it has one); unset: root
  /// there, or the caller's ids. A process that leaves uid 0 so loses its capabilities.
  std::optional<process_user> user;
  /// Its capability sets, set once it is its user (which they survive): the effective,
  /// permitted and inheritable sets, then each ambient capability raised. Unset: root keeps
  /// what the bounding set leaves, another user has none.
  std::optional<capability_sets> capabilities;
  /// Called in the parent while the child waits, before it does anything: the place to move
  /// it into cgroups. An error aborts the spawn and kills the child.
  std::function<result<void>(pid_t)> prepare;
  /// Called in the parent once the child has taken its fs steps, before it pivots into
  /// new_root, while it waits: its namespaces are all made (spawn_in can start a process in
  /// them, whose paths resolve as before the pivot). An error aborts the spawn.
  std::function<result<void>(pid_t)> before_pivot;
  /// When >= 0, a cgroup v2 directory the process is born in (clone3's CLONE_INTO_CGROUP),
  /// so that the cgroup's limits hold from its start. Where the kernel refuses it (cgroup v1,
  /// kernels before 5.7) the process starts in the caller's cgroup: `prepare` still moves it.
  int cgroup_fd = -1;
};

/// Starts a process in new namespaces as described. Returns once it has exec'd; an error of
/// any step in the child (which mount, which path, errno) comes back as the error, and so
/// does a child that died before its exec (a kill, an out-of-memory kill in its cgroup).
OVZ_API result<process> spawn(const spawn_spec& spec);

/// Starts a process inside the namespaces of `target` (setns through its pidfd): the ones in
/// `which`, root and cwd of its mount namespace. spec.namespaces, fs, new_root and hostname
/// must be empty (capabilities and seccomp apply). When `which` has the user namespace, the
/// process becomes root of it (uid and gid 0 there). Unless detached, the returned process is
/// the caller's child, whose exit code is that of the command.
OVZ_API result<process> spawn_in(const process& target, ns_set which, const spawn_spec& spec);

}  // namespace ovz::inline v0
