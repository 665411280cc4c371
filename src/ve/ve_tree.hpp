#pragma once
// A VE's root as the host reaches it to read and write the VE's files (its /etc/hostname,
// /etc/hosts, /etc/resolv.conf, accounts) through kernel/tree_files.hpp: in a running VE its
// init's root, in a stopped one its storage mounted for the host alone.

#include <ovz/config.hpp>
#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include "model/layout.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>

namespace ovz::detail {

struct ve_tree {
  unique_fd root;            // the VE's "/"
  std::uint32_t id_base = 0;  // host id of the VE's root: its user namespace's base, or 0
  uid_t host_id(std::uint32_t inside) const { return id_base + inside; }
};

/// The running VE's root, as its init sees it (/proc/PID/root).
result<ve_tree> running_tree(pid_t init_pid, const ve_config& conf);
/// A stopped VE's root: its storage as a detached mount only the caller holds (ids shifted
/// for a VE in a user namespace, as the VE sees them). Released when the tree is.
result<ve_tree> stopped_tree(const ve_config& conf, const ve_layout& l,
                             const std::filesystem::path& state_root);

}  // namespace ovz::detail
