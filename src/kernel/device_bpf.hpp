#pragma once
// cgroup v2 has no devices.allow file: device access is decided by a BPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup.

#include <ovz/result.hpp>

#include "kernel/cgroup_dir.hpp"
#include "kernel/cgroup_limits.hpp"

#include <string>
#include <vector>

namespace ovz::detail {

/// Builds, loads and attaches a program allowing exactly `allowed` to the cgroup `dir` (its
/// sub-cgroups inherit it). The attachment keeps the program alive until the cgroup is removed.
result<void> attach_device_program(const cgroup_dir& dir, const std::vector<device_rule>& allowed);

}  // namespace ovz::detail
