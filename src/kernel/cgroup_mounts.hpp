#pragma once
// The cgroup hierarchies a VE gets a cgroup of its own in, as the host has them mounted: the
// cgroup manager makes the VE's cgroup in each (kernel/cgroupfs_v1.cpp), and the VE sees each
// at its /sys/fs/cgroup rooted at that cgroup (ve/cgroup_view.cpp).

#include <string>
#include <vector>

namespace ovz::detail {

/// A cgroup hierarchy mounted on the host.
struct cgroup_hierarchy {
  std::string mount_point;  ///< e.g. "/sys/fs/cgroup/memory", or "/sys/fs/cgroup" on v2
  /// cgroup v1: the controllers, or the name ("name=systemd") of a hierarchy without one.
  /// cgroup2: {""}, which is how /proc/PID/cgroup's "0::" line is looked up.
  std::vector<std::string> controllers;
  bool v2 = false;          ///< cgroup2 (the unified hierarchy of a hybrid host, or the only one)
  bool nsdelegate = false;  ///< cgroup2 mounted with nsdelegate (a cgroup namespace's root
                            ///< refuses writes to its own limits from inside)
};

/// A cgroup file system mounted on the host under /sys/fs/cgroup.
struct cgroup_mount {
  std::string mount_point;
  bool v2 = false;
  std::vector<std::string> options;  ///< its super options: "rw", "cpu", "name=systemd"…
};

/// Every cgroup hierarchy mounted under /sys/fs/cgroup, in /proc/self/mountinfo's order.
std::vector<cgroup_mount> host_cgroup_mounts();

/// The hierarchies of this host a VE gets a cgroup in, in /proc/self/mountinfo's order: on
/// cgroup v2 the one under /sys/fs/cgroup; on v1 the controllers' hierarchies VEs are limited
/// by, plus name=systemd and the unified cgroup2 hierarchy of a hybrid host where they are
/// mounted, which a systemd inside the VE keeps its own cgroups in. Each hierarchy once.
std::vector<cgroup_hierarchy> ve_cgroup_hierarchies();

}  // namespace ovz::detail
