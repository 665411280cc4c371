#pragma once
// The plan of an OCI container's start: its VE plan (ve/plan.hpp) made from config.json
// rather than CTID.conf — the bundle's namespaces, root, mounts, devices, capabilities,
// hostname, environment and program — with the limits its resources and annotations set.
// No system call but the stat of bind mounts' sources (a file is bound on a file).

#include <ovz/oci_bundle.hpp>
#include <ovz/ve_params.hpp>

#include "kernel/cgroup_mounts.hpp"
#include "model/layout.hpp"
#include "ve/plan.hpp"

#include <vector>

namespace ovz::detail {

/// What a bundle asks for that this libovz does not do yet (a namespace to join, a seccomp
/// profile, hooks) is errc::unsupported naming it; a bad value errc::bad_config or
/// errc::invalid_argument naming its field. `cgroups`: the host's hierarchies, for a mount of
/// type cgroup.
result<ve_plan> oci_plan_for(const oci_bundle& b, const ve_layout& l, const ve_params& params,
                             const std::vector<cgroup_hierarchy>& cgroups);

/// The fs steps of config.json's mounts on the root `root` (host side, before pivot_root);
/// `user`: the container's user namespace, whose maps an idmapped mount takes by default.
result<std::vector<fs_step>> oci_mount_steps(const oci_bundle& b, const std::filesystem::path& root,
                                             const std::vector<cgroup_hierarchy>& cgroups,
                                             const std::optional<userns_plan>& user);

}  // namespace ovz::detail
