#pragma once
// Where a VE's root filesystem lives and how it becomes the VE's root: made at create, mounted
// at each start (or shown id-shifted to a VE in a user namespace), removed at destroy. Today
// that is the overlay of a template (the shared lower layer) and the VE's private area (the
// upper layer); a disk-quota storage (an image holding the upper layer) is another
// implementation of the same interface, chosen when the plan is made.

#include <ovz/config.hpp>
#include <ovz/fd.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "model/layout.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ovz::detail {

class ve_storage {
 public:
  virtual ~ve_storage() = default;

  /// One line for the printed plan ("overlay lower=… upper=… work=…").
  virtual std::string describe() const = 0;
  /// Fills the empty directory `area`, which becomes the VE's private area once complete
  /// (create makes it under a temporary name and renames it into place).
  virtual result<void> create_area(const std::filesystem::path& area) const = 0;
  /// The directories of the private area a VE in a user namespace must own (its root's id).
  virtual std::vector<std::filesystem::path> owned_by_root() const = 0;
  /// The steps, done in the VE's new mount namespace, that mount its root at the mount
  /// point; with `shifted_root` (see below), attaching that instead. No system call.
  virtual result<std::vector<fs_step>> root_steps(int shifted_root = -1) const = 0;
  /// For a VE in a user namespace: its root as the host makes it, a detached mount whose
  /// files appear owned as the user namespace `userns` maps them. The caller keeps it open
  /// until the VE's init has attached it.
  virtual result<unique_fd> shifted_root(int userns) const = 0;
  /// Its root as a detached mount the host made (ids as stored), through which the host
  /// reads and writes a stopped VE's files; gone once closed, before the VE mounts its own.
  virtual result<unique_fd> host_root() const = 0;
  /// Removes the private area and the mount point (destroy).
  virtual result<void> remove_area() const = 0;
};

/// The storage CTID.conf asks for, of the template `template_root`: the overlay, today.
std::shared_ptr<const ve_storage> storage_for(const ve_config& conf, const ve_paths& l,
                                              std::filesystem::path template_root);

/// The overlay of `template_root` (lower, shared) under the VE's private area (upper and
/// work directories), mounted at the VE's mount point.
std::shared_ptr<const ve_storage> overlay_storage(const ve_paths& l,
                                                  std::filesystem::path template_root);

}  // namespace ovz::detail
