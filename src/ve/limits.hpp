#pragma once
// OpenVZ's parameters as kernel limits, and back: the table's (model/ubc_table.hpp) limit
// columns applied to cgroup_limits.

#include <ovz/namespaces.hpp>
#include <ovz/ve_params.hpp>

#include "kernel/cgroup_limits.hpp"

namespace ovz::detail {

/// The limits for a VE's complete settings (as params_from_config gives them), marked to
/// write the fields that `changes` touch (all of them by default). `cpuset_key` (its CTID)
/// chooses the CPUs of a VE with CPUS and no CPUMASK.
cgroup_limits limits_for(const ve_params& p, unsigned fields = all_fields,
                         std::uint64_t cpuset_key = 0);

/// The limit fields that setting `changes` touches.
unsigned fields_for(const ve_params& changes);

/// The barrier and limit a running VE's report gives for `r`: its settings', unless the
/// kernel limit `r` becomes holds another value in `kernel` (as read from the VE's cgroup)
/// than in `configured` (limits_for(settings), made once for all resources), which a live
/// change not saved leaves. Then that side is the kernel's, and the other side is the
/// setting's as far as a barrier does not exceed its limit. `kernel_page` is the host's page
/// size, the unit the kernel rounds byte limits down to.
ubc_value reported_value(ubc_resource r, const ve_params& settings,
                         const cgroup_limits& configured, const cgroup_limits& kernel,
                         std::uint64_t kernel_page);

/// RLIMIT_NOFILE of VE processes: NUMFILE's barrier and limit as soft and hard limit, or a
/// fixed 1024:524288 when NUMFILE is unlimited, never what the caller happens to have.
resource_limit nofile_limit(const ve_params& p);

/// The most pseudo-terminals the VE's devpts hands out (its max=): NUMPTY's limit and one
/// for the console; nullopt when unlimited.
std::optional<std::uint64_t> pty_limit(const ve_params& p);

/// The settings after `changes`: each named beancounter and CPU value replaced.
ve_params merged(ve_params base, const ve_params& changes);

}  // namespace ovz::detail
