#pragma once
// Where a VE's root filesystem lives and how it becomes the VE's root: made at create, mounted
// at each start (or shown id-shifted to a VE in a user namespace), removed at destroy. Two
// kinds: the overlay of a template (the shared lower layer) and the VE's private area (the
// upper layer), and the same overlay whose upper layer is in an ext4 image of the VE's own,
// whose size and inode count are its disk quota.

#include <ovz/config.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/fd.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "kernel/loop_device.hpp"
#include "model/layout.hpp"

#include <sys/types.h>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace ovz::detail {

class ve_storage {
 public:
  virtual ~ve_storage() = default;

  /// One line for the printed plan ("overlay lower=… upper=… work=…").
  virtual std::string describe() const = 0;
  /// Fills the directory `area` (made if missing, else empty), which becomes the VE's private area once complete
  /// (create makes it under a temporary name and renames it into place); what the VE's root
  /// writes belongs to host uid and gid `root_id` (0, or a user namespace's base).
  virtual result<void> create_area(const std::filesystem::path& area, uid_t root_id) const = 0;
  /// The host uid that owns the VE's root directory as stored (create_area's `root_id`).
  virtual result<uid_t> root_owner() const = 0;
  /// For a VE in a user namespace: its root as the host makes it, a detached mount whose
  /// files appear owned as the user namespace `userns` maps them. The caller keeps it open
  /// until the VE's init has attached it.
  virtual result<unique_fd> shifted_root(int userns) const = 0;
  /// Its root as a detached mount the host made (ids as stored), through which the host
  /// reads and writes a stopped VE's files; gone once closed, before the VE mounts its own.
  virtual result<unique_fd> host_root() const = 0;
  /// Removes the private area and the mount point (destroy).
  virtual result<void> remove_area() const = 0;
  /// Once the VE's init runs (`init`): the device its root's quota tools find its disk by,
  /// where it has quota of its users and groups (kernel/quota_device.hpp).
  virtual result<void> show_quota_device(pid_t init) const = 0;
};

enum class storage_kind { overlay, image };

/// Which kind the VE's private area holds: an image when it has one.
storage_kind storage_kind_of(const ve_paths& l);

/// The storage of that kind for the VE whose CTID.conf is `conf` (an image's size and inode
/// count at create: DISKSPACE and DISKINODES), of the template `template_root`. No system call.
std::shared_ptr<const ve_storage> storage_for(storage_kind kind, const ve_config& conf,
                                              const ve_paths& l,
                                              std::filesystem::path template_root);

/// Makes overlayfs' upper and work directories, owned by host uid and gid `root_id`.
result<void> make_layer_dirs(const std::filesystem::path& upper,
                             const std::filesystem::path& work, uid_t root_id);

/// Removes each directory with all below it (a private area and a mount point).
result<void> remove_dirs(std::initializer_list<std::filesystem::path> dirs);

/// The overlay of `template_root` (lower, shared) under the VE's private area (upper and
/// work directories), mounted at the VE's mount point.
std::shared_ptr<const ve_storage> overlay_storage(const ve_paths& l,
                                                  std::filesystem::path template_root);
/// The VE's disk image (`l.disk_image`) mounted (detached, the root of its ext4); its loop
/// device stays bound while the mount lives. Where the image has the kernel's quota, the VE's
/// files are put in its project and held to `disk`'s limits and grace time (`enforced`).
struct mounted_disk {
  loop_binding loop;
  unique_fd mount;
  bool enforced = false;
};
result<mounted_disk> mount_disk(const ve_paths& l, const disk_params& disk);
/// Moves the files of a VE without a disk image (its upper directory) onto a new image made
/// as create makes it for `disk`, which must hold them; the VE must be stopped. A move that
/// fails leaves the VE as it was.
result<void> move_onto_image(const ve_paths& l, const disk_params& disk);
/// The same overlay with the upper and work directories in the ext4 image `l.disk_image`,
/// made `disk`'s hard size and inode count, with the kernel's quota where it has one.
std::shared_ptr<const ve_storage> image_storage(const ve_paths& l,
                                                std::filesystem::path template_root,
                                                result<disk_params> disk);

}  // namespace ovz::detail
