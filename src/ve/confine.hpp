#pragma once
// What confines a VE's processes: capabilities, seccomp, no_new_privs, RLIMIT_NOFILE.

#include <ovz/config.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

namespace ovz::detail {

/// Confines what `spec` starts as a VE process as CTID.conf says: the capabilities the
/// defaults and CAPABILITY drop, the seccomp profile, no_new_privs, and RLIMIT_NOFILE from
/// NUMFILE (never the caller's).
result<void> confine(spawn_spec& spec, const ve_config& conf);

}  // namespace ovz::detail
