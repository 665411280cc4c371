#pragma once
// Seccomp profiles compiled into the classic BPF programs spawn installs, by libseccomp.

#include <ovz/result.hpp>
#include <ovz/seccomp.hpp>

#include <linux/filter.h>

#include <vector>

namespace ovz::detail {

/// Which calls a VE's filter hands to its monitor (SECCOMP_RET_USER_NOTIF): none; for a VE
/// without a user namespace or CAP_SYS_ADMIN, what its root needs that capability for (mount,
/// umount2, sethostname, setdomainname) and quotactl on its disk; for a VE in a user
/// namespace, whose root mounts and names in namespaces of its own, quotactl alone.
enum class broker_scope { none, privileged, quota };

/// The calls of that scope.
const std::vector<std::string>& brokered_calls(broker_scope scope);

/// The program for `profile` on this architecture. The calls of `scope` go to the filter's
/// listener whatever the profile says of them, unless it names them; and where the monitor
/// mounts for the VE (privileged), the new mount API (fsopen, open_tree, mount_setattr…),
/// which would fail for lack of CAP_SYS_ADMIN, says ENOSYS, so that callers fall back to
/// mount(2). The calls of `notify` go to the listener too (an OCI profile's
/// SCMP_ACT_NOTIFY: the profile holds no rule of its own for them).
result<std::vector<sock_filter>> compile_seccomp(const seccomp_profile& profile,
                                                 broker_scope scope = broker_scope::none,
                                                 const std::vector<std::string>& notify = {});

/// The built-in profile's program, compiled once per process (each scope): every VE start
/// uses it.
result<const std::vector<sock_filter>*> default_seccomp_filter(
    broker_scope scope = broker_scope::none);

/// Whether `program` hands some call to a listener (SECCOMP_RET_USER_NOTIF).
bool has_notify_rule(const std::vector<sock_filter>& program);

}  // namespace ovz::detail
