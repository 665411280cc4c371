#include "ve/runtime.hpp"

#include "fail.hpp"
#include "kernel/caps.hpp"
#include "kernel/files.hpp"
#include "kernel/seccomp.hpp"
#include "ve/net_setup.hpp"
#include "ve/userns.hpp"

#include <algorithm>

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

// The built-in profile refuses these calls because their unprivileged forms depend on host
// sysctls; a VE given the capability that governs one gets the call back with it, so that
// CAPABILITY="BPF:on" means what it says.
std::vector<std::string> calls_given_back(const std::vector<capability_setting>& caps) {
  static const std::pair<std::string_view, std::string_view> governs[] = {
      {"bpf", "bpf"}, {"perfmon", "perf_event_open"}, {"syslog", "syslog"}};
  std::vector<std::string> calls;
  for (const auto& c : caps) {
    for (const auto& [cap, call] : governs)
      if (c.on && c.name == cap) calls.emplace_back(call);
  }
  return calls;
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
  s.pids = std::move(pids);
  return s;
}

result<void> clean_up(cgroup_backend& cg, const ve_layout& l) {
  BOOST_OUTCOME_TRY(cg.kill_all(l.cgroup, std::chrono::seconds(10)));
  // Host-side devices go at once: the VE's netns dies asynchronously, and a quick restart
  // would find their names taken.
  BOOST_OUTCOME_TRY(tear_down_network(l));
  return cg.remove(l.cgroup);
}

result<std::vector<ctid>> list_ctids(const std::filesystem::path& state_root) {
  std::vector<ctid> ids;
  std::error_code ec;
  std::filesystem::directory_iterator it(conf_dir(state_root), ec), end;
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return ids;
    return sys_fail(ec.value(), "list {}", conf_dir(state_root).string());
  }
  for (; it != end; it.increment(ec)) {
    const auto& p = it->path();
    if (p.extension() != ".conf") continue;
    if (auto id = ctid::parse(p.stem().string())) ids.push_back(*id);  // else a sample or backup
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

result<process> running_init(cgroup_backend& cg, const ve_layout& l, ctid id) {
  BOOST_OUTCOME_TRY(live, probe(cg, l));
  if (!live.init_pid)
    return fail(errc::not_running, "VE {} is not running: start it first", id.value());
  return process::open(live.init_pid);
}

result<void> confine(spawn_spec& spec, const ve_config& conf) {
  BOOST_OUTCOME_TRY(sec, security_from_config(conf));
  BOOST_OUTCOME_TRY(drops, dropped_capabilities(sec.capabilities));
  spec.drop_capabilities = std::move(drops);
  spec.no_new_privs = sec.no_new_privs;
  if (sec.seccomp_profile.empty()) {
    auto lifted = calls_given_back(sec.capabilities);
    if (lifted.empty()) {
      BOOST_OUTCOME_TRY(filter, default_seccomp_filter());
      spec.seccomp = *filter;
    } else {
      auto profile = default_seccomp_profile();
      for (auto& rule : profile.rules)
        std::erase_if(rule.syscalls, [&](const std::string& s) {
          return std::find(lifted.begin(), lifted.end(), s) != lifted.end();
        });
      BOOST_OUTCOME_TRY(program, compile_seccomp(profile));
      spec.seccomp = std::move(program);
    }
  } else if (sec.seccomp_profile != "unconfined") {
    BOOST_OUTCOME_TRY(profile, seccomp_profile::load(sec.seccomp_profile));
    auto program = compile_seccomp(profile);
    if (!program) return with_context(program.error(), "seccomp profile " + sec.seccomp_profile);
    spec.seccomp = std::move(*program);
  }
  return success();
}

ns_set ve_namespaces() { return ns_set::ve_default(); }

result<ns_set> ve_namespaces(const process& init) {
  ns_set ns = ve_namespaces();
  BOOST_OUTCOME_TRY(own, in_other_userns(init.pid()));
  if (own) ns.add(ns_type::user);
  return ns;
}

std::vector<std::string> ve_environment(const std::string& term) {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
          "TERM=" + term, "container=ovz"};
}

}  // namespace ovz::detail
