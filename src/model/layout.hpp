#pragma once
// Where a VE's pieces live under a state root, OpenVZ style (conf/, private/, root/), and the
// name of its cgroup. Pure naming, no system calls.

#include <ovz/ctid.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ovz::detail {

/// A VE's files, named from the state root's path.
struct ve_paths {
  ctid id;
  std::filesystem::path conf;         // <root>/conf/<id>.conf
  std::filesystem::path private_dir;  // <root>/private/<id>: everything the VE stores
  std::filesystem::path upper;        // <private>/fs: the overlay's upper layer
  std::filesystem::path work;         // <private>/work: overlayfs' work directory
  // A VE with a disk quota keeps fs and work in an ext4 image instead, attached at disk
  // where the host mounts the VE's root.
  std::filesystem::path disk_image;   // <private>/disk.img
  std::filesystem::path disk_stage;   // <private>/disk
  std::filesystem::path mount_point;  // <root>/root/<id>: where the root is mounted
  std::filesystem::path lock;         // <root>/lock/<id>.lck
  std::filesystem::path console_log;  // <root>/log/<id>.console: init's stdout and stderr
  std::filesystem::path console_log_rotated;  // <root>/log/<id>.console.1: its previous part
  std::filesystem::path net_state;    // <root>/run/<id>.net: host-side network entries to undo
  std::filesystem::path console_socket;  // <root>/run/<id>.console: the monitor's, to attach
  std::filesystem::path broker_socket;   // <root>/run/<id>.broker: the monitor's, to hand it
                                         // the seccomp listener of a command run in the VE
  std::filesystem::path proc_views;      // <root>/run/<id>.proc: ovzproc while a start binds
                                         // its files (ve/proc_views.hpp)
  std::filesystem::path suspend_mark;    // <root>/run/<id>.suspended: suspend() froze it, as
                                         // opposed to a stop's or a checkpoint's brief freeze
  std::filesystem::path dump;            // <root>/dump/<id>: its checkpoint, by default
  std::filesystem::path pre_dumps;       // <root>/dump/<id>.pre: an online migration's
                                         // pre-dumps 1, 2, …, each the parent of the next
};

/// The most log/CTID.console holds before it is renamed to CTID.console.1 (replacing it) and
/// begun anew: a VE that floods its console costs the host twice this at most.
inline constexpr std::uint64_t console_log_max = 1 << 20;

/// A state root directory as the kernel knows it (its device and inode), however a caller
/// reaches it: through a symlink, a bind mount or another spelling of the path. VEs' cgroups
/// are named after it, so every path to a root sees the same VEs running.
struct root_identity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  bool installation = false;  // the default state root (default_state_root)
};

/// A VE's files and its cgroup.
struct ve_layout : ve_paths {
  // "ovz" for the installation's root, else "ovz-<dev>-<ino>"; empty when the cgroup was
  // given (CGROUP_PATH), whose parent is its giver's, never libovz's to remove.
  std::string cgroup_parent;
  std::string cgroup;  // <cgroup_parent>/<id>, or CGROUP_PATH without its leading "/"
};

/// CTID.conf's key for a cgroup the VE's owner chose (an OCI container's cgroupsPath): a
/// path from the root of each cgroup hierarchy.
inline constexpr std::string_view cgroup_path_key = "CGROUP_PATH";

/// A CGROUP_PATH value as a cgroup path below the hierarchy's root: "/a/b" is "a/b". Refused
/// (errc::bad_config, naming the setting as `what`) unless it is absolute, below the root, and
/// each of its names is one a cgroup directory can have: not empty, ".", "..", or with a
/// control character.
result<std::string> given_cgroup(std::string_view value,
                                 std::string_view what = cgroup_path_key);

/// The VE's files alone: for what never touches its cgroup.
ve_paths layout_of(const std::filesystem::path& state_root, ctid id);
/// The VE's files and its cgroup, the root being the directory `root` identifies.
ve_layout layout_of(const std::filesystem::path& state_root, ctid id, const root_identity& root);

std::filesystem::path conf_dir(const std::filesystem::path& state_root);

/// The cgroup parent of a state root's VEs. cgroups are host-wide while state roots are not,
/// so VEs of a test's private root never share cgroups with the installation's VEs.
std::string cgroup_parent_of(const root_identity& root);

}  // namespace ovz::detail
