#pragma once
// OpenVZ's parameters as cgroup limits: the one place that decides which beancounter the
// kernel enforces with what.

#include <ovz/namespaces.hpp>
#include <ovz/ve_params.hpp>

#include "kernel/cgroup_limits.hpp"

namespace ovz::detail {

/// The limits for a VE's complete settings (as params_from_config gives them), marked to
/// write the fields that `changes` touch (all of them by default).
cgroup_limits limits_for(const ve_params& p, unsigned fields = all_fields);

/// The limit fields that setting `changes` touches.
unsigned fields_for(const ve_params& changes);

/// RLIMIT_NOFILE of VE processes: NUMFILE's barrier and limit as soft and hard limit, or a
/// fixed 1024:524288 when NUMFILE is unlimited, never what the caller happens to have.
resource_limit nofile_limit(const ve_params& p);

/// The most pseudo-terminals the VE's devpts hands out (its max=): NUMPTY's limit, nullopt
/// when unlimited.
std::optional<std::uint64_t> pty_limit(const ve_params& p);

/// The settings after `changes`: each named beancounter and CPU value replaced.
ve_params merged(ve_params base, const ve_params& changes);

}  // namespace ovz::detail
