#pragma once
// Files the host reads and writes in a tree someone else controls (a VE's root, a template
// being made fit for VEs), given as a directory descriptor. Every path is resolved inside the
// tree (openat2 RESOLVE_IN_ROOT) and on its own mount (RESOLVE_NO_XDEV), no magic link and no
// symlink in the last component is followed: whatever the tree's owner planted, the host
// reads and writes nothing outside it.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ovz::detail {

/// The directory `dir` ("" or "." for the tree's root, else relative like "etc/ssh") below
/// `root`.
result<unique_fd> open_tree_dir(int root, const std::string& dir);

/// True when `path` exists below `root` (a dangling or outward symlink counts as existing).
bool exists_in_tree(int root, const std::string& path);

/// The content of the regular file `path` below `root`; nullopt when it is missing or is a
/// symlink (which a replace then overwrites). Anything else there, or a file larger than
/// `max` bytes (a VE could make one of gigabytes), is errc::invalid_argument.
result<std::optional<std::string>> read_in_tree(int root, const std::string& path,
                                                std::size_t max = 1 << 20);

/// Mode and owner of a file written into a tree.
struct tree_file {
  mode_t mode = 0644;
  /// An existing regular file keeps its mode and owner (a VE's /etc/shadow stays 0640
  /// root:shadow), the others get `mode`.
  bool keep_existing = true;
  /// Owner of a new file (host ids); unset: the directory's owner, which is the VE's root
  /// for a VE in a user namespace as well.
  std::optional<uid_t> uid{};
  std::optional<gid_t> gid{};
};

/// Replaces (or creates) `dir/name` below `root` with `content`, atomically: written and
/// flushed under a temporary name in the same directory, then renamed over it, so a reader
/// inside sees the old file or the new one, and a symlink there is replaced, not followed.
result<void> replace_in_tree(int root, const std::string& dir, const std::string& name,
                             std::string_view content, const tree_file& attrs = {});

/// Makes the directory `dir/name` below `root` with `mode` and owner (host ids) unless it
/// exists; false when it did.
result<bool> make_dir_in_tree(int root, const std::string& dir, const std::string& name,
                              mode_t mode, uid_t uid, gid_t gid);

}  // namespace ovz::detail
