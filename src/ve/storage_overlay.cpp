#include "ve/storage.hpp"

#include "fail.hpp"
#include "kernel/idmap.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

namespace ovz::detail {
namespace {

class overlay final : public ve_storage {
 public:
  overlay(const ve_paths& l, std::filesystem::path lower)
      : lower_(std::move(lower)), upper_(l.upper), work_(l.work), area_(l.private_dir),
        mount_point_(l.mount_point) {}

  std::string describe() const override {
    return fmt::format("overlay lower={} upper={} work={}", lower_.string(), upper_.string(),
                       work_.string());
  }

  result<void> create_area(const std::filesystem::path& area, uid_t root_id) const override {
    return make_layer_dirs(area / upper_.filename(), area / work_.filename(), root_id);
  }

  result<uid_t> root_owner() const override {
    struct stat st {};
    if (::stat(upper_.c_str(), &st) != 0) return sys_fail(errno, "stat {}", upper_.string());
    return st.st_uid;
  }

  result<unique_fd> shifted_root(int userns) const override {
    BOOST_OUTCOME_TRY(tree, idmapped_tree(lower_, userns, template_idmap_use));
    return detached_overlay(std::move(tree), mount_point_, upper_, work_);
  }

  result<unique_fd> host_root() const override {
    BOOST_OUTCOME_TRY(tree, cloned_tree(lower_));
    return detached_overlay(std::move(tree), mount_point_, upper_, work_);
  }

  result<void> remove_area() const override { return remove_dirs({area_, mount_point_}); }
  // No disk of its own, no quota.
  result<void> show_quota_device(pid_t) const override { return success(); }

 private:
  std::filesystem::path lower_, upper_, work_, area_, mount_point_;
};

}  // namespace

std::shared_ptr<const ve_storage> overlay_storage(const ve_paths& l,
                                                  std::filesystem::path template_root) {
  return std::make_shared<overlay>(l, std::move(template_root));
}

}  // namespace ovz::detail
