#pragma once
// OpenVZ's parameters as cgroup limits: the one place that decides which beancounter the
// kernel enforces with what.

#include <ovz/ve_params.hpp>

#include "kernel/cgroup_limits.hpp"

namespace ovz::detail {

/// The limits for a VE's complete settings (as params_from_config gives them), marked to
/// write the fields that `changes` touch (all of them by default).
cgroup_limits limits_for(const ve_params& p, unsigned fields = all_fields);

/// The limit fields that setting `changes` touches.
unsigned fields_for(const ve_params& changes);

/// The settings after `changes`: each named beancounter and CPU value replaced.
ve_params merged(ve_params base, const ve_params& changes);

}  // namespace ovz::detail
