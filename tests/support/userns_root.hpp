#pragma once
// State roots for VEs in a user namespace, which need a filesystem with idmapped mounts.

#include "support/temp_root.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ovz::test {

/// A filesystem mounted for one test on a fresh directory under /tmp; unmounted (lazily: a
/// stopped VE's mount namespace may still be on its way out) and removed afterwards.
class scratch_fs {
 public:
  /// "ext4" on a loop device over a sparse image, or a filesystem with no device ("ramfs").
  explicit scratch_fs(const std::string& type);
  ~scratch_fs();
  scratch_fs(const scratch_fs&) = delete;
  scratch_fs& operator=(const scratch_fs&) = delete;
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path image_;
};

/// A state root for user-namespace VEs: under the temporary directory when its filesystem has
/// idmapped mounts, else on an ext4 made for the test (tmpfs has none before Linux 6.3: the
/// lab's /tmp on Debian's 6.1). The VE's root walks to its mount point as an unprivileged
/// host uid, so the root is opened to others (mkdtemp's 0700 would stop it).
class userns_root {
 public:
  userns_root();
  const temp_root& get() const { return *root_; }
  ve open(std::uint32_t id) const { return root_->open(id); }
  const std::filesystem::path& path() const { return root_->path(); }

 private:
  std::optional<scratch_fs> fs_;  // declared first: outlives the root on it
  std::optional<temp_root> root_;
};

}  // namespace ovz::test
