#include "ve/live_state.hpp"

#include "fail.hpp"
#include "log.hpp"
#include "kernel/fault.hpp"
#include "kernel/files.hpp"
#include "kernel/proc_stat.hpp"
#include "ve/net_live.hpp"

#include <sstream>

#include <unistd.h>

namespace ovz::detail {
namespace {

// True when /proc/PID/status says the process is PID 1 of the namespace just below ours.
// NSpid lists its PID in each namespace from ours inward; a PID namespace nested inside the
// VE has its own PID 1 further in, which is not the VE's init.
bool is_ns_init(pid_t pid) {
  auto status = read_file(fmt::format("/proc/{}/status", pid));
  if (!status) return false;
  // An init still being started (it has not exec'd yet) is not a running VE: its root and
  // mounts may not be there.
  if (status->starts_with(fmt::format("Name:\t{}\n", spawn_child_name))) return false;
  auto pos = status->find("\nNSpid:");
  if (pos == std::string::npos) return false;
  auto end = status->find('\n', pos + 1);
  std::istringstream fields(status->substr(pos + 7, end - pos - 7));
  std::string ours, below;
  return (fields >> ours >> below) && below == "1";
}

}  // namespace

result<live_state> probe(cgroup_manager& cg, const ve_layout& l) {
  BOOST_OUTCOME_TRY(pids, cg.procs(l.cgroup));
  live_state s;
  s.nproc = static_cast<int>(pids.size());
  for (pid_t pid : pids) {
    if (is_ns_init(pid)) {
      s.init_pid = pid;
      break;
    }
  }
  s.pids = std::move(pids);
  // Frozen by suspend(): a stop's or a checkpoint's freeze is no state of the VE's.
  if (s.init_pid && ::access(l.suspend_mark.c_str(), F_OK) == 0) {
    BOOST_OUTCOME_TRY(frozen, cg.frozen(l.cgroup));
    s.frozen = frozen;
  }
  return s;
}

result<pid_t> runnable_init(const live_state& s, ctid id) {
  if (!s.init_pid)
    return fail(errc::not_running, "VE {} is not running: start it first", id.value());
  // A command started in a frozen cgroup would be frozen before its first instruction, and
  // the caller waiting for it would wait until someone resumes the VE.
  if (s.frozen)
    return fail(errc::suspended, "VE {} is suspended: resume it first (ovzctl resume {})",
                id.value(), id.value());
  return s.init_pid;
}

result<void> clean_up(const host_services& h, const ve_layout& l) {
  cgroup_manager& cg = h.cg();
  if (fault_refuses("clean-up")) return sys_fail(EBUSY, "clean up {} (OVZ_TEST_FAULT)", l.cgroup);
  BOOST_OUTCOME_TRY(cg.kill_all(l.cgroup, std::chrono::seconds(10)));
  // Host-side devices go at once: the VE's netns dies asynchronously, and a quick restart
  // would find their names taken.
  BOOST_OUTCOME_TRY(tear_down_network(h, l));
  // A stale socket refuses clients, which the next start's replaces: no reason to fail a stop
  // (on a state root remounted read-only, say).
  for (const auto& socket : {l.console_socket, l.broker_socket, l.suspend_mark})
    logged(remove_file_if_any(socket), fmt::format("VE {}: clean-up", l.id.value()));
  return cg.remove(l.cgroup);
}

result<process> running_init(cgroup_manager& cg, const ve_layout& l, ctid id) {
  BOOST_OUTCOME_TRY(live, probe(cg, l));
  BOOST_OUTCOME_TRY(init, runnable_init(live, id));
  return process::open(init);
}

error unless_stopped(const cgroup_manager& cg, const ve_layout& l, const process& init,
                     const error& e) {
  // ESRCH comes from an init that is exiting: its namespaces go before its pidfd tells. A
  // child killed before its exec may have gone with the rest of a VE that stop kills whole,
  // before the init's own death shows: it failed, or was gone before it could be released
  // (EPIPE, the cgroup killed right after the child was moved into it). ENOENT: the init's
  // /proc entry or its cgroup, gone with it; ENODEV: a v1 cgroup being removed, which takes
  // no task.
  const bool maybe_stopping = e.sys_errno() == ESRCH || e.sys_errno() == EPIPE ||
                              e.sys_errno() == ENOENT || e.sys_errno() == ENODEV ||
                              e.is(errc::child_failed);
  auto stopped = [&] {
    return fail(errc::not_running, "VE {} stopped while the command was being started in it",
                l.id.value());
  };
  // Only a stop removes the cgroup, once it is empty. The init's pidfd may tell later than
  // that: a PID namespace's init leaves its cgroup before it waits for the namespace's other
  // processes to be reaped, which a loaded machine can take more than a second to do.
  if (maybe_stopping && !cg.exists(l.cgroup)) return stopped();
  auto exited = init.wait_exit(std::chrono::milliseconds(maybe_stopping ? 1000 : 0));
  if (exited && *exited) return stopped();
  if (maybe_stopping && !cg.exists(l.cgroup)) return stopped();
  return e;
}

}  // namespace ovz::detail
