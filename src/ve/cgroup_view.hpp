#pragma once
// What a VE sees at /sys/fs/cgroup: each hierarchy it has a cgroup in, mounted by its init
// after it entered its own cgroup namespace, so that the VE's cgroup is the root it sees and
// nothing of the host's tree shows (the container interface systemd asks for,
// https://systemd.io/CONTAINER_INTERFACE/).

#include <ovz/namespaces.hpp>

#include "kernel/cgroup_mounts.hpp"

#include <filesystem>
#include <vector>

namespace ovz::detail {

/// The steps that mount the VE's cgroups on `root`/sys/fs/cgroup, given the host's
/// hierarchies (ve_cgroup_hierarchies). cgroup v2: cgroup2 there, writable where the VE
/// cannot change its own limits with it — in a user namespace (the limits stay the host
/// root's files) or with nsdelegate (the kernel refuses writes to a namespace's root) —,
/// read-only otherwise. v1: a read-only tmpfs holding a directory per hierarchy; name=systemd
/// and the unified hierarchy writable (they hold no limit), the controllers' hierarchies
/// read-only (a systemd inside sees it may not use them). No system call.
std::vector<fs_step> cgroup_view_steps(const std::filesystem::path& root,
                                       const std::vector<cgroup_hierarchy>& hierarchies,
                                       bool userns);

}  // namespace ovz::detail
