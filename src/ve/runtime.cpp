#include "ve/runtime.hpp"

#include "fail.hpp"
#include "kernel/caps.hpp"
#include "kernel/files.hpp"
#include "kernel/seccomp.hpp"
#include "ve/limits.hpp"
#include "ve/net_setup.hpp"
#include "ve/userns.hpp"

#include <linux/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace ovz::detail {
namespace {

// True when /proc/PID/status says the process is PID 1 of the namespace just below ours.
// NSpid lists its PID in each namespace from ours inward; a PID namespace nested inside the
// VE has its own PID 1 further in, which is not the VE's init.
bool is_ns_init(pid_t pid) {
  auto status = read_file(fmt::format("/proc/{}/status", pid));
  if (!status) return false;
  auto pos = status->find("\nNSpid:");
  if (pos == std::string::npos) return false;
  auto end = status->find('\n', pos + 1);
  std::istringstream fields(status->substr(pos + 7, end - pos - 7));
  std::string ours, below;
  return (fields >> ours >> below) && below == "1";
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
  return s;
}

result<void> clean_up(cgroup_manager& cg, const ve_layout& l) {
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

result<process> running_init(cgroup_manager& cg, const ve_layout& l, ctid id) {
  BOOST_OUTCOME_TRY(live, probe(cg, l));
  if (!live.init_pid)
    return fail(errc::not_running, "VE {} is not running: start it first", id.value());
  return process::open(live.init_pid);
}

error unless_stopped(const process& init, ctid id, const error& e) {
  // ESRCH comes from an init that is exiting: its namespaces go before its pidfd tells. A
  // child killed before its exec may have gone with the rest of a VE that stop kills whole,
  // before the init's own death shows: it failed, or was gone before it could be released
  // (EPIPE, the cgroup killed right after the child was moved into it).
  const bool maybe_stopping =
      e.sys_errno() == ESRCH || e.sys_errno() == EPIPE || e.is(errc::child_failed);
  auto exited = init.wait_exit(std::chrono::milliseconds(maybe_stopping ? 1000 : 0));
  if (!exited || !*exited) return e;
  return fail(errc::not_running, "VE {} stopped while the command was being started in it",
              id.value());
}

result<void> confine(spawn_spec& spec, const ve_config& conf) {
  BOOST_OUTCOME_TRY(params, params_from_config(conf));
  spec.nofile = nofile_limit(params);
  // No process may have more than fs.nr_open descriptors; a larger NUMFILE means that many.
  if (auto text = read_file("/proc/sys/fs/nr_open")) {
    std::uint64_t nr_open = 0;
    if (std::from_chars(text->data(), text->data() + text->size(), nr_open).ec == std::errc() &&
        nr_open > 0) {
      spec.nofile->hard = std::min(spec.nofile->hard, nr_open);
    }
  }
  // Raising a hard limit takes CAP_SYS_RESOURCE; a caller confined without it can hand out
  // at most its own.
  struct rlimit own {};
  if (!has_effective_capability(CAP_SYS_RESOURCE) && ::getrlimit(RLIMIT_NOFILE, &own) == 0)
    spec.nofile->hard = std::min<std::uint64_t>(spec.nofile->hard, own.rlim_max);
  spec.nofile->soft = std::min(spec.nofile->soft, spec.nofile->hard);
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
