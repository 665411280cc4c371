#pragma once
// Which capabilities VE processes lose, OpenVZ's CAPABILITY="NAME:on|off ..." applied on top.

#include <ovz/result.hpp>
#include <ovz/security.hpp>

#include <sys/types.h>

#include <vector>

namespace ovz::detail {

/// The bounding-set drops for a VE: the defaults (module loading, raw I/O, clock, mounting
/// and other CAP_SYS_ADMIN powers, MAC, audit control, syslog, mknod, open-by-handle …; in a
/// user namespace only the few that act on the host alone), less the ones CAPABILITY turns
/// on, plus the ones it turns off.
result<std::vector<int>> dropped_capabilities(const std::vector<capability_setting>& settings,
                                              bool userns);

/// Whether this process holds `cap` (CAP_* number) in its effective set.
bool has_effective_capability(int cap);

/// Drops `cap` from the calling thread's effective and permitted sets, for good: capset(2)
/// changes one thread's credentials only, so the process's other threads keep it.
result<void> drop_thread_capability(int cap);

/// This thread creates files as `uid`:`gid` from now on (setfsuid, setfsgid: in a user
/// namespace's filesystem, a host root that namespace does not map may create nothing), its
/// effective capabilities kept: the kernel takes the filesystem ones (CAP_MKNOD…) away as
/// the filesystem uid leaves 0.
result<void> create_files_as(uid_t uid, gid_t gid);

}  // namespace ovz::detail
