#pragma once
// Delegation of a VE's cgroup to the root of its user namespace, as cgroup v2's documentation
// describes it ("Delegation"): the directory and the files that move processes and enable
// controllers become the VE root's, the limits the host wrote stay the host's.

#include <ovz/result.hpp>

#include "kernel/cgroup_dir.hpp"

#include <sys/types.h>

namespace ovz::detail {

/// Gives host uid/gid (a user-namespace VE's root) the hierarchies of `cg` that the VE's own
/// init manages: name=systemd and cgroup2. It may then make sub-cgroups there and move its
/// processes among them; the v1 controllers' hierarchies, which hold its limits, stay root's.
result<void> delegate_cgroup(const ve_cgroup& cg, uid_t uid, gid_t gid);

}  // namespace ovz::detail
