#pragma once
// A VE's live state, read from the kernel: its cgroup is the truth about whether a VE runs,
// so no PID file can go stale. And the clean-up after a VE that stopped.

#include <ovz/ctid.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "kernel/cgroup_manager.hpp"
#include "model/layout.hpp"
#include "ve/host_services.hpp"

#include <sys/types.h>

#include <vector>

namespace ovz::detail {

struct live_state {
  pid_t init_pid = 0;  // 0: not running
  int nproc = 0;
  std::vector<pid_t> pids;  // the VE's processes, as cgroup.procs lists them
  bool frozen = false;      // running, its cgroup frozen (suspended)
};

/// The VE's init (the process of its cgroup that is PID 1 of its own PID namespace), its
/// process count, and whether its cgroup is frozen.
result<live_state> probe(cgroup_manager& cg, const ve_layout& l);

/// The init of a VE found running and not suspended, for what needs its processes to run:
/// errc::not_running, or errc::suspended telling how to resume it.
result<pid_t> runnable_init(const live_state& s, ctid id);

/// Kills whatever is left in the VE's cgroup and removes it. The parent stays for the next
/// start (making it costs a mkdir per hierarchy); destroy removes it with the last VE.
result<void> clean_up(const host_services& h, const ve_layout& l);

/// The running VE's init, or runnable_init()'s error.
result<process> running_init(cgroup_manager& cg, const ve_layout& l, ctid id);

/// `e`, unless the VE stopped meanwhile (its init exited, or its cgroup is gone): then
/// errc::not_running saying so. A command that raced a stop learns that, not which system
/// call noticed it (setns or the cgroup attach failing with ESRCH, its cgroup.procs ENOENT).
error unless_stopped(const cgroup_manager& cg, const ve_layout& l, const process& init,
                     const error& e);

}  // namespace ovz::detail
