#include "ve/confine.hpp"

#include "fail.hpp"
#include "kernel/caps.hpp"
#include "kernel/files.hpp"
#include "kernel/seccomp.hpp"
#include "log.hpp"
#include "ve/limits.hpp"
#include "ve/monitor.hpp"
#include "ve/userns.hpp"

#include <linux/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>

namespace ovz::detail {
namespace {

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

result<confine_inputs> gather_confine_inputs(const ve_security& sec) {
  confine_inputs in;
  // No process may have more than fs.nr_open descriptors; a larger NUMFILE means that many.
  if (auto text = read_file("/proc/sys/fs/nr_open")) {
    std::uint64_t nr_open = 0;
    if (std::from_chars(text->data(), text->data() + text->size(), nr_open).ec == std::errc())
      in.nr_open = nr_open;
  }
  // Raising a hard limit takes CAP_SYS_RESOURCE; a caller confined without it can hand out
  // at most its own.
  struct rlimit own {};
  if (!has_effective_capability(CAP_SYS_RESOURCE) && ::getrlimit(RLIMIT_NOFILE, &own) == 0)
    in.nofile_ceiling = own.rlim_max;
  if (!sec.seccomp_profile.empty() && sec.seccomp_profile != "unconfined") {
    BOOST_OUTCOME_TRY(profile, seccomp_profile::load(sec.seccomp_profile));
    in.profile_file = std::move(profile);
  }
  return in;
}

result<confinement> confinement_for(const ve_config& conf, const confine_inputs& host) {
  confinement c;
  BOOST_OUTCOME_TRY(params, params_from_config(conf));
  c.nofile = nofile_limit(params);
  if (host.nr_open > 0) c.nofile.hard = std::min(c.nofile.hard, host.nr_open);
  if (host.nofile_ceiling) c.nofile.hard = std::min(c.nofile.hard, *host.nofile_ceiling);
  c.nofile.soft = std::min(c.nofile.soft, c.nofile.hard);
  BOOST_OUTCOME_TRY(sec, security_from_config(conf));
  BOOST_OUTCOME_TRY(userns, userns_range(conf));
  BOOST_OUTCOME_TRY(drops, dropped_capabilities(sec.capabilities, userns.has_value()));
  // Unconfined means no filter at all, and so no broker: the kernel's own answers.
  if (sec.seccomp_profile != "unconfined")
    c.broker = userns ? broker_scope::quota
               : std::find(drops.begin(), drops.end(), CAP_SYS_ADMIN) != drops.end()
                   ? broker_scope::privileged
                   : broker_scope::none;
  c.drop_capabilities = std::move(drops);
  c.no_new_privs = sec.no_new_privs;
  if (sec.seccomp_profile.empty()) {
    auto profile = default_seccomp_profile();
    auto lifted = calls_given_back(sec.capabilities);
    c.builtin_seccomp = lifted.empty();
    for (auto& rule : profile.rules)
      std::erase_if(rule.syscalls, [&](const std::string& s) {
        return std::find(lifted.begin(), lifted.end(), s) != lifted.end();
      });
    c.seccomp = std::move(profile);
  } else if (sec.seccomp_profile != "unconfined") {
    if (!host.profile_file)
      return fail(errc::invalid_argument, "seccomp profile {} was not read",
                  sec.seccomp_profile);
    c.seccomp = *host.profile_file;
  }
  return c;
}

result<void> confine(spawn_spec& spec, const confinement& c) {
  spec.nofile = c.nofile;
  spec.drop_capabilities = c.drop_capabilities;
  spec.no_new_privs = c.no_new_privs;
  if (c.builtin_seccomp) {
    BOOST_OUTCOME_TRY(filter, default_seccomp_filter(c.broker));
    spec.seccomp = *filter;
  } else if (c.seccomp) {
    BOOST_OUTCOME_TRY(program, compile_seccomp(*c.seccomp, c.broker, c.notify));
    spec.seccomp = std::move(program);
  }
  return success();
}

result<unique_fd> confine(spawn_spec& spec, const ve_config& conf, const ve_paths& l) {
  BOOST_OUTCOME_TRY(sec, security_from_config(conf));
  BOOST_OUTCOME_TRY(in, gather_confine_inputs(sec));
  BOOST_OUTCOME_TRY(c, confinement_for(conf, in));
  if (auto ok = confine(spec, c); !ok) {
    if (!sec.seccomp_profile.empty() && sec.seccomp_profile != "unconfined")
      return with_context(ok.error(), "seccomp profile " + sec.seccomp_profile);
    return ok.error();
  }
  if (!c.brokered()) return unique_fd();
  auto broker = connect_broker(l);
  if (!broker) {
    log(log_level::warning, fmt::format("VE {}: mount and hostname calls of this command will "
                                        "fail: {}", l.id.value(), broker.error().message()));
    return unique_fd();
  }
  spec.seccomp_listener_socket = broker->get();
  return std::move(*broker);
}

}  // namespace ovz::detail
