#include "kernel/seccomp.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace ovz::detail {
namespace {

std::uint32_t to_libseccomp(seccomp_action a, int errno_value) {
  switch (a) {
    case seccomp_action::allow: return SCMP_ACT_ALLOW;
    case seccomp_action::kill: return SCMP_ACT_KILL_PROCESS;
    case seccomp_action::trap: return SCMP_ACT_TRAP;
    case seccomp_action::log: return SCMP_ACT_LOG;
    case seccomp_action::errno_return: return SCMP_ACT_ERRNO(static_cast<std::uint16_t>(errno_value));
  }
  return SCMP_ACT_ALLOW;
}

scmp_arg_cmp to_libseccomp(const seccomp_arg& a) {
  switch (a.op) {
    case seccomp_compare::eq: return SCMP_CMP(a.index, SCMP_CMP_EQ, a.value);
    case seccomp_compare::ne: return SCMP_CMP(a.index, SCMP_CMP_NE, a.value);
    case seccomp_compare::lt: return SCMP_CMP(a.index, SCMP_CMP_LT, a.value);
    case seccomp_compare::le: return SCMP_CMP(a.index, SCMP_CMP_LE, a.value);
    case seccomp_compare::gt: return SCMP_CMP(a.index, SCMP_CMP_GT, a.value);
    case seccomp_compare::ge: return SCMP_CMP(a.index, SCMP_CMP_GE, a.value);
    case seccomp_compare::masked_eq: return SCMP_CMP(a.index, SCMP_CMP_MASKED_EQ, a.mask, a.value);
  }
  return SCMP_CMP(a.index, SCMP_CMP_EQ, a.value);
}

// The rules of `profile`, with the calls in `notify` handed to the listener.
result<std::vector<sock_filter>> compile_rules(const seccomp_profile& profile,
                                               const std::vector<std::string>& notify) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(
      seccomp_init(to_libseccomp(profile.default_action, profile.default_errno)), seccomp_release);
  if (!ctx) return fail(errc::unsupported, "seccomp_init failed");
  for (const auto& name : profile.architectures) {
    const std::uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (arch == 0) return fail(errc::bad_config, "unknown architecture \"{}\"", name);
    // The machine's own is there already.
    if (int rc = seccomp_arch_add(ctx.get(), arch); rc < 0 && rc != -EEXIST)
      return sys_fail(-rc, "seccomp_arch_add {}", name);
  }
  for (const auto& name : notify) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) return fail(errc::bad_config, "unknown system call \"{}\"", name);
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, nr, 0); rc < 0)
      return sys_fail(-rc, "seccomp_rule_add {} (notify)", name);
  }
  for (const auto& rule : profile.rules) {
    const auto action = to_libseccomp(rule.action, rule.errno_value);
    // libseccomp refuses a rule that repeats the default action: it would change nothing.
    if (action == to_libseccomp(profile.default_action, profile.default_errno)) continue;
    std::vector<scmp_arg_cmp> conditions;
    for (const auto& a : rule.args) conditions.push_back(to_libseccomp(a));
    for (const auto& name : rule.syscalls) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) return fail(errc::bad_config, "unknown system call \"{}\"", name);
      const int rc = seccomp_rule_add_array(ctx.get(), action, nr,
                                            static_cast<unsigned>(conditions.size()),
                                            conditions.empty() ? nullptr : conditions.data());
      // EEXIST: the call has a rule of another action already, the first one holds.
      if (rc < 0 && rc != -EEXIST) return sys_fail(-rc, "seccomp_rule_add {}", name);
    }
  }
  // libseccomp writes the program to a descriptor; a memfd keeps it in memory.
  unique_fd mem(::memfd_create("ovz-seccomp", MFD_CLOEXEC));
  if (!mem) return sys_fail(errno, "memfd_create for the seccomp program");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0)
    return sys_fail(-rc, "seccomp_export_bpf");
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  std::vector<sock_filter> program(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), program.data(), program.size() * sizeof(sock_filter), 0) !=
      static_cast<ssize_t>(program.size() * sizeof(sock_filter)))
    return sys_fail(errno, "read the seccomp program back");
  return program;
}

}  // namespace

const std::vector<std::string>& brokered_calls(broker_scope scope) {
  static const std::vector<std::string> none, quota = {"quotactl"},
      privileged = {"mount", "umount2", "sethostname", "setdomainname", "quotactl"};
  switch (scope) {
    case broker_scope::none: return none;
    case broker_scope::privileged: return privileged;
    case broker_scope::quota: return quota;
  }
  return none;
}

result<std::vector<sock_filter>> compile_seccomp(const seccomp_profile& profile,
                                                 broker_scope scope,
                                                 const std::vector<std::string>& also_notify) {
  std::vector<std::string> notify = also_notify;
  seccomp_profile with_broker = profile;
  auto named = [&](const std::string& call) {
    return std::any_of(profile.rules.begin(), profile.rules.end(), [&](const seccomp_rule& r) {
      return std::find(r.syscalls.begin(), r.syscalls.end(), call) != r.syscalls.end();
    });
  };
  for (const auto& call : brokered_calls(scope))
    if (!named(call)) notify.push_back(call);
  if (scope == broker_scope::privileged) {
    seccomp_rule new_api{{}, seccomp_action::errno_return, ENOSYS};
    for (const char* call : {"fsopen", "fsconfig", "fsmount", "fspick", "open_tree",
                             "move_mount", "mount_setattr"})
      if (!named(call)) new_api.syscalls.emplace_back(call);
    if (!new_api.syscalls.empty()) with_broker.rules.push_back(std::move(new_api));
  }
  return compile_rules(with_broker, notify);
}

result<const std::vector<sock_filter>*> default_seccomp_filter(broker_scope scope) {
  static std::once_flag once[3];
  static result<std::vector<sock_filter>> program[3] = {error(), error(), error()};
  const auto which = static_cast<std::size_t>(scope);
  std::call_once(once[which], [&] {
    program[which] = compile_seccomp(default_seccomp_profile(), scope);
  });
  if (!program[which]) return program[which].error();
  return &*program[which];
}

bool has_notify_rule(const std::vector<sock_filter>& program) {
  return std::any_of(program.begin(), program.end(), [](const sock_filter& f) {
    return f.code == (BPF_RET | BPF_K) && (f.k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF;
  });
}

}  // namespace ovz::detail
