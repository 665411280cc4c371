#pragma once
// Seccomp profiles compiled into the classic BPF programs spawn installs, by libseccomp.

#include <ovz/result.hpp>
#include <ovz/seccomp.hpp>

#include <linux/filter.h>

#include <vector>

namespace ovz::detail {

/// The calls a privileged VE's monitor carries out for it (mount, umount2, sethostname,
/// setdomainname): a brokered filter hands them to its listener (SECCOMP_RET_USER_NOTIF).
const std::vector<std::string>& brokered_calls();

/// The program for `profile` on this architecture. `brokered`: the brokered calls go to the
/// filter's listener whatever the profile says of them, unless it names them; and the new
/// mount API (fsopen, open_tree, mount_setattr…), which would fail for lack of CAP_SYS_ADMIN,
/// says ENOSYS, so that callers fall back to mount(2).
result<std::vector<sock_filter>> compile_seccomp(const seccomp_profile& profile,
                                                 bool brokered = false);

/// The built-in profile's program, compiled once per process (each variant): every VE start
/// uses it.
result<const std::vector<sock_filter>*> default_seccomp_filter(bool brokered = false);

/// Whether `program` hands some call to a listener (SECCOMP_RET_USER_NOTIF).
bool has_notify_rule(const std::vector<sock_filter>& program);

}  // namespace ovz::detail
