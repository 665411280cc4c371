#pragma once
// Which capabilities VE processes lose, OpenVZ's CAPABILITY="NAME:on|off ..." applied on top.

#include <ovz/result.hpp>
#include <ovz/security.hpp>

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

}  // namespace ovz::detail
