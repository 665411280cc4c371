#include "ve/confine.hpp"

#include "fail.hpp"
#include "kernel/caps.hpp"
#include "kernel/files.hpp"
#include "kernel/seccomp.hpp"
#include "ve/limits.hpp"

#include <ovz/security.hpp>
#include <ovz/seccomp.hpp>

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

}  // namespace ovz::detail
