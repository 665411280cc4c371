#include "ve/runtime.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"

namespace ovz::detail {
namespace {

// True when /proc/PID/status says the process is PID 1 of a namespace below ours.
bool is_ns_init(pid_t pid) {
  auto status = read_file(fmt::format("/proc/{}/status", pid));
  if (!status) return false;
  auto pos = status->find("\nNSpid:");
  if (pos == std::string::npos) return false;
  auto end = status->find('\n', pos + 1);
  std::string line = status->substr(pos + 7, end - pos - 7);
  auto last = line.find_last_not_of(" \t");
  if (last == std::string::npos) return false;
  auto first = line.find_last_of(" \t", last);
  bool nested = line.find_first_not_of(" \t") < first;  // more than one PID listed
  return nested && line.substr(first + 1, last - first) == "1";
}

}  // namespace

result<live_state> probe(cgroup_backend& cg, const ve_layout& l) {
  BOOST_OUTCOME_TRY(pids, cg.procs(l.cgroup));
  live_state s;
  s.nproc = static_cast<int>(pids.size());
  for (pid_t pid : pids) {
    if (is_ns_init(pid)) {
      s.init_pid = pid;
      break;
    }
  }
  return s;
}

result<void> clean_up(cgroup_backend& cg, const ve_layout& l) {
  BOOST_OUTCOME_TRY(cg.kill_all(l.cgroup, std::chrono::seconds(10)));
  return cg.remove(l.cgroup);
}

result<process> running_init(cgroup_backend& cg, const ve_layout& l, ctid id) {
  BOOST_OUTCOME_TRY(live, probe(cg, l));
  if (!live.init_pid)
    return fail(errc::not_running, "VE {} is not running: start it first", id.value());
  return process::open(live.init_pid);
}

ns_set ve_namespaces() { return ns_set::ve_default(); }

std::vector<std::string> ve_environment(const std::string& term) {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
          "TERM=" + term, "container=ovz"};
}

}  // namespace ovz::detail
