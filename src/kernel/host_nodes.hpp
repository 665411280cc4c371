#pragma once
// Device nodes the host makes for a process in a user namespace of its own: it may not make
// them there (mknod of a device needs CAP_MKNOD in the host's user namespace), and a node on a
// filesystem it mounted would not open (its mounts are nodev). Each comes as a detached mount
// of one node on a tmpfs of the host's, which the process attaches where the node belongs.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <vector>

namespace ovz::detail {

struct host_node {
  mode_t mode = 0;  ///< S_IFCHR or S_IFBLK and the permissions
  dev_t dev = 0;
  uid_t uid = 0;  ///< the owner as the host sees it
  gid_t gid = 0;
};

/// The nodes, one detached mount each, in order. The tmpfs is mounted meanwhile in a mount
/// namespace of a short-lived thread's own: Linux before 6.15 clones nothing (open_tree)
/// from a detached mount, and so nothing shows on the host.
result<std::vector<unique_fd>> make_host_nodes(const std::vector<host_node>& nodes);

}  // namespace ovz::detail
