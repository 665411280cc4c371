#pragma once
// The device nodes of a VE: the ones every VE has, and the host's nodes DEVNODES grants.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>
#include <ovz/security.hpp>

#include "kernel/cgroup_limits.hpp"

#include <filesystem>
#include <vector>

namespace ovz::detail {

/// A DEVNODES grant matched with the host's node of that name.
struct host_devnode {
  std::string name;  // below /dev
  device_rule rule;
  unsigned mode = 0;  // S_IFCHR/S_IFBLK and permissions, as on the host
};

/// Looks the granted nodes up in the host's /dev; a missing node or one that is not a device
/// is errc::not_found / errc::invalid_argument naming it.
result<std::vector<host_devnode>> resolve_devnodes(const std::vector<devnode_grant>& grants);

/// What the VE's processes may open: null, zero, full, random, urandom, tty, ptmx and its
/// pseudo-terminals with full access, then the granted nodes with theirs.
std::vector<device_rule> ve_device_rules(const std::vector<host_devnode>& granted);

/// Adds the steps that make one device node at `target`: a mknod, or in a user namespace
/// (which may not make nodes) the host's `host_path` bound onto an empty file. Either way the
/// device cgroup decides whether it opens.
void add_node_steps(std::vector<fs_step>& steps, const std::string& target,
                    const std::string& host_path, unsigned mode, unsigned long dev, bool userns);

/// The steps that make the granted nodes (and their directories) in the VE's /dev, which is
/// `dev_dir` in the child's mount namespace.
std::vector<fs_step> devnode_steps(const std::string& dev_dir,
                                   const std::vector<host_devnode>& granted, bool userns);

}  // namespace ovz::detail
