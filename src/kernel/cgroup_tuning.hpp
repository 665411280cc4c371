#pragma once
// The cgroup core's own trade-off between moving tasks and forking them (favordynmods), set
// for a host whose VEs come and go: see ovz::tune_host.

#include <ovz/result.hpp>

#include <string>
#include <vector>

namespace ovz::detail {

/// Turns on favordynmods for the host's cgroup2 root, keeping the super options its mount has
/// (`cgroup2_options`, as /proc/self/mountinfo lists them; empty where cgroup2 is not mounted).
/// true when it was off.
result<bool> favor_cgroup_changes(const std::vector<std::string>& cgroup2_options);

}  // namespace ovz::detail
