#pragma once
// Mounts made by the host in another process's mount namespace, resolved as that process
// resolves paths (its root, its working directory): what a VE's monitor does for the mount
// calls it brokers. Each runs in a short-lived child of ours that joins the namespaces, so
// that we stay where we are whatever fails.

#include <ovz/result.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ovz::detail {

/// The process a mount is made for, held open before its request was checked to be its own.
struct mount_site {
  int pidfd = -1;
  int root = -1;     // O_PATH: its root directory
  int cwd = -1;      // O_PATH: its working directory
  int source = -1;   // O_PATH: the root that copies are taken from (the VE init's)
};

using fs_options = std::vector<std::pair<std::string, std::string>>;
/// Whether a mount (by its ID, mount_id_of's kind) may be changed or unmounted.
using mount_filter = std::function<bool(std::uint64_t)>;

/// A new `fstype` with `options` on `target`, with the MOUNT_ATTR_* `attrs`; `extra_ns` are
/// the CLONE_NEW* namespaces of the caller it belongs to besides the mount namespace (the IPC
/// namespace, for mqueue). Returns the new mount's ID.
result<std::uint64_t> mount_new_fs(const mount_site& site, const std::string& target,
                                   const std::string& fstype, const fs_options& options,
                                   std::uint64_t attrs, int extra_ns);

/// A copy of the mount tree at `source` (below site.source) on `target`, every mount keeping
/// its flags and getting `attrs` on top. Returns the copy's top mount's ID.
result<std::uint64_t> mount_copy(const mount_site& site, const std::string& target,
                                 const std::string& source, std::uint64_t attrs);

/// New options and mount flags for the mount whose root `target` is, when `own` allows it.
result<void> remount_own(const mount_site& site, const std::string& target,
                         const fs_options& options, std::uint64_t attr_set,
                         std::uint64_t attr_clr, const mount_filter& own);

/// Detaches the mount whose root `target` is (with everything below it), when `own` allows it;
/// returns its ID.
result<std::uint64_t> unmount_own(const mount_site& site, const std::string& target, bool follow,
                         const mount_filter& own);

/// The ID of the tmpfs mounted at `path` below the root `root` (an O_PATH descriptor of a
/// process's root); an error when nothing or something else is mounted there.
result<std::uint64_t> tmpfs_mount_at(int root, const std::string& path);

/// The IDs of the mounts process `pid` sees (/proc/PID/mountinfo's first field).
result<std::vector<std::uint64_t>> mount_ids_seen_by(int pid);

/// Whether mount IDs are never reused on this kernel (statx STATX_MNT_ID_UNIQUE, 6.8): else
/// an ID held after its mount went must be dropped before another mount takes it.
bool mount_ids_unique();

}  // namespace ovz::detail
