#pragma once
// The controllers each cgroup of a cgroup v2 tree enables for its children
// (cgroup.subtree_control), kept with a checkpoint: CRIU 3.17 makes a VE's sub-cgroups again
// but not what they enable, and a systemd inside watches files (memory.events) only an
// enabled controller puts in its units' cgroups.

#include <ovz/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace ovz::detail {

/// The tree at `dir` as lines "PATH [CONTROLLER…]", PATH relative to `dir` ("." itself),
/// parents first.
result<std::string> subtree_controls(const std::filesystem::path& dir);

/// Makes the tree at `dir` again, parents first: the cgroups missing, and what each enables.
/// Each must hold no process by then (cgroup v2 gives controllers to children only of a
/// cgroup without its own).
result<void> enable_subtree_controls(const std::filesystem::path& dir, std::string_view saved);

}  // namespace ovz::detail
