#pragma once
// Idmapped mounts (Linux 5.12+): a mount of a directory that shows its files' owners shifted
// by a user namespace's mapping, so one template serves VEs whose roots are different host
// ids without a copy per VE or a chown of the template.

#include <ovz/fd.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// The id outside that `maps` give `inside`; nullopt when none maps it.
std::optional<std::uint32_t> mapped_id(const std::vector<id_map>& maps, std::uint32_t inside);
/// True when `maps` give some id inside the host id `outside`.
bool maps_to(const std::vector<id_map>& maps, std::uint32_t outside);

/// A user namespace with these uid and gid maps, held by an fd of /proc/PID/ns/user. It is
/// made by a short-lived child that has exited when this returns.
result<unique_fd> userns_with_maps(const std::vector<id_map>& uid_map,
                                   const std::vector<id_map>& gid_map);

struct userns_maps {
  std::vector<id_map> uid_map, gid_map;
};

/// The maps of the user namespace `userns` (an open namespace file) as the host sees them,
/// read through a short-lived child that enters it. errc::invalid_argument where the file is
/// no user namespace.
result<userns_maps> maps_of_userns(int userns);

/// A detached copy of the mount at `dir` (open_tree OPEN_TREE_CLONE).
result<unique_fd> cloned_tree(const std::filesystem::path& dir);

/// How much of the tree at a directory idmapped_tree takes, and shifts.
enum class idmap_depth {
  mount,     ///< the mount there alone, as a bind takes it
  tree_top,  ///< the mounts below it too, as an rbind; the top one shifted (OCI's "idmap")
  tree,      ///< the mounts below it too, all shifted (OCI's "ridmap")
};

/// A detached copy of the mount at `dir` (open_tree OPEN_TREE_CLONE) through which files
/// appear owned as `userns` maps them. errc::unsupported, saying what is missing, where the
/// kernel or the filesystem of `dir` has no idmapped mounts; `needed_for` ends that message:
/// what needs the mount, and how to do without it.
result<unique_fd> idmapped_tree(const std::filesystem::path& dir, int userns,
                                std::string_view needed_for,
                                idmap_depth depth = idmap_depth::mount);

/// idmapped_tree's `needed_for` where a VE's template becomes its root.
inline constexpr std::string_view template_idmap_use =
    "a VE in a user namespace needs to use its template without a copy (or run it without "
    "--userns)";

/// A detached mount attached at `at` meanwhile, as the stage of detached_overlay below (or
/// where its layers are opened from).
struct staged_mount {
  int fd = -1;  ///< none when -1
  std::filesystem::path at{};
};

/// A detached overlay (fsmount) of `lower` (a detached mount, consumed) under `upper` with
/// overlayfs' `work` directory; both in `upper_fs` where that is given (a VE's disk image).
/// The superblock belongs to the host (the caller's user namespace), so the layers are used
/// with the caller's rights, less CAP_SYS_RESOURCE, whoever mounts the result.
/// Linux 6.13 takes the layers as open directories, a detached mount's too. Before it,
/// `stage` is an existing directory the lower layer is attached at meanwhile, in a mount
/// namespace of a short-lived thread's own: overlayfs (6.1) takes no layer from a detached
/// mount, only from the mounter's namespace, and so nothing shows on the host.
result<unique_fd> detached_overlay(unique_fd lower, const std::filesystem::path& stage,
                                   const std::filesystem::path& upper,
                                   const std::filesystem::path& work,
                                   const staged_mount& upper_fs = {});

}  // namespace ovz::detail
