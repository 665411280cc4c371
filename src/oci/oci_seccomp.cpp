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

constexpr std::string_view notify_action = "SCMP_ACT_NOTIFY";

// The calls of rule `i`, an SCMP_ACT_NOTIFY one, added to `out`.
result<void> notified_calls(const oci_seccomp& s, std::size_t i, std::vector<std::string>& out) {
  const auto field = fmt::format("linux.seccomp.syscalls[{}]", i);
  if (s.listener_path.empty())
    return fail(errc::bad_config, "{}: {} needs linux.seccomp.listenerPath, where its calls' "
                "listener goes", field, notify_action);
  if (!s.syscalls[i].args.empty())
    return fail(errc::unsupported, "{}: {} with conditions on arguments is not supported",
                field, notify_action);
  for (const auto& name : s.syscalls[i].names) {
    // The process sends its listener with sendmsg: that call would wait for itself.
    if (name == "sendmsg")
      return fail(errc::unsupported, "{}: {} cannot take sendmsg, with which the process hands "
                  "its listener over", field, notify_action);
    if (seccomp_syscall_resolve_name(name.c_str()) != __NR_SCMP_ERROR) out.push_back(name);
  }
  return success();
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

result<std::optional<oci_filter>> oci_seccomp_filter(const std::optional<oci_seccomp>& s) {
  if (!s) return std::optional<oci_filter>{};
  oci_filter f;
  seccomp_profile& p = f.profile;
  // Every call, the runtime's own steps after the filter included, would wait for an agent
  // that has not been given the listener yet; runc refuses it too.
  if (s->default_action == notify_action)
    return fail(errc::unsupported, "linux.seccomp.defaultAction: {} cannot be the default",
                notify_action);
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
    if (r.action == notify_action) {
      BOOST_OUTCOME_TRY(notified_calls(*s, i, f.notify));
      continue;
    }
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
  return std::optional<oci_filter>(std::move(f));
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

std::vector<std::string> oci_seccomp_actions() {
  std::vector<std::string> names;
  for (const auto& a : detail::actions) names.emplace_back(a.first);
  names.emplace_back(detail::notify_action);
  return names;
}

}  // namespace ovz::inline v0
