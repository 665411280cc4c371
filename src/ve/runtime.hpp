#pragma once
// What the VE operations share: reading a VE's live state from the kernel and cleaning up
// after it. The kernel (the VE's cgroup) is the truth about whether a VE runs; no PID file
// can go stale.

#include <ovz/ctid.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"
#include "model/layout.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ovz::detail {

struct live_state {
  pid_t init_pid = 0;  // 0: not running
  int nproc = 0;
  std::vector<pid_t> pids;  // the VE's processes, as cgroup.procs lists them
};

/// The VE's init (the process of its cgroup that is PID 1 of its own PID namespace) and its
/// process count.
result<live_state> probe(cgroup_manager& cg, const ve_layout& l);

/// Kills whatever is left in the VE's cgroup and removes it. The parent stays for the next
/// start (making it costs a mkdir per hierarchy); destroy removes it with the last VE.
result<void> clean_up(cgroup_manager& cg, const ve_layout& l);

/// The CTIDs that have a config under the state root, in order.
result<std::vector<ctid>> list_ctids(const std::filesystem::path& state_root);

/// Calls `f(const ve&)` (returning result<void>) for every VE under the state root, in CTID
/// order, until one fails.
template <class F>
result<void> for_each_ve(const std::filesystem::path& state_root, F&& f) {
  BOOST_OUTCOME_TRY(ids, list_ctids(state_root));
  for (ctid id : ids) {
    BOOST_OUTCOME_TRY(v, ve::open(id, state_root));
    BOOST_OUTCOME_TRY(f(v));
  }
  return success();
}

/// The running VE's init, or errc::not_running.
result<process> running_init(cgroup_manager& cg, const ve_layout& l, ctid id);

/// `e`, unless the VE's init has exited meanwhile: then errc::not_running saying that the VE
/// stopped. A command that raced a stop learns that, not which system call noticed it
/// (setns or the cgroup attach failing with ESRCH).
error unless_stopped(const process& init, ctid id, const error& e);

/// Confines what `spec` starts as a VE process as CTID.conf says: the capabilities the
/// defaults and CAPABILITY drop, the seccomp profile, no_new_privs, and RLIMIT_NOFILE from
/// NUMFILE (never the caller's).
result<void> confine(spawn_spec& spec, const ve_config& conf);

/// The namespaces a command run inside a VE enters.
ns_set ve_namespaces();
/// Those of the VE whose init this is: ve_namespaces(), and its user namespace if it has one.
result<ns_set> ve_namespaces(const process& init);

/// The environment of VE processes started by the library.
std::vector<std::string> ve_environment(const std::string& term = "linux");

}  // namespace ovz::detail
