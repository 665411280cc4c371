#pragma once
// What spawn's children do between clone and exec, and the plan they follow: everything laid
// out before the clone, read afterwards with raw system calls only (kernel/raw.hpp). The
// caller forks them itself, or hands the plan to libovz's helper program (spawn_wire.hpp),
// which forks them from its own small image.

#include "kernel/sys.hpp"

#include <linux/filter.h>
#include <sys/types.h>

#include <ovz/namespaces.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ovz::detail::spawning {

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
  step_user = -20,
  step_join = -21,
  step_cap_sets = -22,
};

enum report_kind : std::int32_t {
  report_error = 1,
  report_pid = 2,
  report_gated = 3,
  report_mounted = 4,  // fs steps taken, waiting on the sync pipe before the pivot
};

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
  uid_t uid;
  gid_t gid;
  int fd;  // attach; a mknod's node made by the host (kernel/host_nodes.hpp)
  bool in_root;
};

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
  bool pause_before_pivot = false;  // report_mounted, then a second release on sync_r
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
  int start_gate = -1;  // read a byte from it before the exec (spawn_spec::start_gate)
  std::vector<int> join_fds;    // namespaces the intermediate enters before the fork
  std::vector<int> join_flags;  // their CLONE_NEW* types
  bool set_user = false;  // become uid, gid with groups (spawn_spec::user)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<int> groups;
  std::vector<int> pass_fds;  // become 3, 4, … just before the exec
  bool set_caps = false;  // spawn_spec::capabilities
  std::uint64_t cap_effective = 0;
  std::uint64_t cap_permitted = 0;
  std::uint64_t cap_inheritable = 0;
  std::uint64_t cap_ambient = 0;
};

// ---- child side: raw system calls only ----

/// The final child: fork_final's flags, born in p.cgroup_fd where the kernel can.
OVZ_CHILD_CODE pid_t fork_final(const plan& p, unsigned long long flags, int* pidfd) noexcept;
/// Reports the failed step and errno on p.report_w, and exits.
[[noreturn]] OVZ_CHILD_CODE void child_fail(const plan& p, std::int32_t st) noexcept;
/// Closes every descriptor from 3 up but p.keep.
OVZ_CHILD_CODE void close_others(const plan& p) noexcept;
/// Waits for the caller's release, takes the plan's steps and executes the program.
[[noreturn]] OVZ_CHILD_CODE void final_child(plan& p) noexcept;
/// Forks the final child (after entering the target's namespaces) and reports its PID; then
/// becomes the monitor, or waits for the final child (detached: for the caller's hold).
[[noreturn]] OVZ_CHILD_CODE void intermediate_child(plan& p, bool detach) noexcept;
/// Forks and lets the parent exit, so that the caller need not reap what follows.
OVZ_CHILD_CODE void leave_caller(const plan& p) noexcept;

}  // namespace ovz::detail::spawning
