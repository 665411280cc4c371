#include "oci/oci_seccomp.hpp"

#include "fail.hpp"

#include <seccomp.h>

#include <array>
#include <cctype>
#include <cerrno>

namespace ovz::detail {
namespace {

struct action {
  seccomp_action what;
  int errno_value;
};

// A thread killed alone leaves the rest of its process running on: the whole process goes.
constexpr std::array<std::pair<std::string_view, seccomp_action>, 7> actions{{
    {"SCMP_ACT_ALLOW", seccomp_action::allow},
    {"SCMP_ACT_ERRNO", seccomp_action::errno_return},
    {"SCMP_ACT_KILL", seccomp_action::kill},
    {"SCMP_ACT_KILL_THREAD", seccomp_action::kill},
    {"SCMP_ACT_KILL_PROCESS", seccomp_action::kill},
    {"SCMP_ACT_TRAP", seccomp_action::trap},
    {"SCMP_ACT_LOG", seccomp_action::log},
}};

result<action> action_of(const std::string& name, std::optional<unsigned> errno_ret,
                         std::string_view field) {
  for (const auto& [known, what] : actions) {
    if (known != name) continue;
    const bool errno_return = what == seccomp_action::errno_return;
    return action{what, errno_return ? static_cast<int>(errno_ret.value_or(EPERM)) : 0};
  }
  return fail(errc::unsupported, "{}: the seccomp action {} is not supported", field, name);
}

seccomp_compare compare_of(oci_seccomp_op op) {
  switch (op) {
    case oci_seccomp_op::ne: return seccomp_compare::ne;
    case oci_seccomp_op::lt: return seccomp_compare::lt;
    case oci_seccomp_op::le: return seccomp_compare::le;
    case oci_seccomp_op::eq: return seccomp_compare::eq;
    case oci_seccomp_op::ge: return seccomp_compare::ge;
    case oci_seccomp_op::gt: return seccomp_compare::gt;
    case oci_seccomp_op::masked_eq: return seccomp_compare::masked_eq;
  }
  return seccomp_compare::eq;
}

}  // namespace

result<std::optional<seccomp_profile>> oci_seccomp_profile(const std::optional<oci_seccomp>& s) {
  if (!s) return std::optional<seccomp_profile>{};
  seccomp_profile p;
  BOOST_OUTCOME_TRY(def, action_of(s->default_action, s->default_errno_ret, "linux.seccomp.defaultAction"));
  p.default_action = def.what;
  p.default_errno = def.errno_value;
  for (const auto& arch : s->architectures) {
    // SCMP_ARCH_X86 is libseccomp's "x86".
    std::string name = arch.starts_with("SCMP_ARCH_") ? arch.substr(10) : arch;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::uint32_t resolved = seccomp_arch_resolve_name(name.c_str());
    if (resolved != 0 && resolved != seccomp_arch_native()) p.architectures.push_back(std::move(name));
  }
  for (std::size_t i = 0; i < s->syscalls.size(); ++i) {
    const auto& r = s->syscalls[i];
    BOOST_OUTCOME_TRY(act, action_of(r.action, r.errno_ret,
                                     fmt::format("linux.seccomp.syscalls[{}].action", i)));
    seccomp_rule rule{{}, act.what, act.errno_value, {}};
    for (const auto& name : r.names)
      if (seccomp_syscall_resolve_name(name.c_str()) != __NR_SCMP_ERROR) rule.syscalls.push_back(name);
    for (const auto& a : r.args) {
      // OCI's MASKED_EQ holds the mask in value and what it must equal in valueTwo.
      seccomp_arg arg{a.index, compare_of(a.op), a.value, 0};
      if (a.op == oci_seccomp_op::masked_eq) {
        arg.mask = a.value;
        arg.value = a.value_two;
      }
      rule.args.push_back(arg);
    }
    if (!rule.syscalls.empty()) p.rules.push_back(std::move(rule));
  }
  return std::optional<seccomp_profile>(std::move(p));
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

std::vector<std::string> oci_seccomp_actions() {
  std::vector<std::string> names;
  for (const auto& a : detail::actions) names.emplace_back(a.first);
  return names;
}

}  // namespace ovz::inline v0
