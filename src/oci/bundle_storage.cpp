#include "oci/bundle_storage.hpp"

#include "fail.hpp"
#include "kernel/idmap.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ovz::detail {
namespace {

class bundle_root final : public ve_storage {
 public:
  bundle_root(std::filesystem::path root, std::filesystem::path mount_point)
      : root_(std::move(root)), mount_point_(std::move(mount_point)) {}

  std::string describe() const override { return fmt::format("simfs {}", root_.string()); }
  result<void> create_area(const std::filesystem::path&, uid_t) const override {
    return success();
  }
  result<uid_t> root_owner() const override {
    struct stat st {};
    if (::stat(root_.c_str(), &st) != 0) return sys_fail(errno, "stat {}", root_.string());
    return st.st_uid;
  }
  result<unique_fd> shifted_root(int userns) const override {
    return idmapped_tree(root_, userns,
                         "a container in a user namespace needs for its root shifted to its ids");
  }
  result<unique_fd> host_root() const override {
    // Recursive: what the caller mounted inside the bundle's root (podman's overlay is the
    // root itself) comes along.
    unique_fd tree(::open_tree(AT_FDCWD, root_.c_str(),
                               OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!tree) return sys_fail(errno, "open_tree {}", root_.string());
    return tree;
  }
  result<void> remove_area() const override { return remove_dirs({mount_point_}); }
  result<void> show_quota_device(pid_t) const override { return success(); }

 private:
  std::filesystem::path root_;
  std::filesystem::path mount_point_;
};

}  // namespace

std::shared_ptr<const ve_storage> bundle_storage(std::filesystem::path root,
                                                 std::filesystem::path mount_point) {
  return std::make_shared<bundle_root>(std::move(root), std::move(mount_point));
}

}  // namespace ovz::detail
