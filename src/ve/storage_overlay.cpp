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

  result<unique_fd> made_root() const override { return unique_fd(); }

  result<std::vector<fs_step>> root_steps(int made_root) const override {
    fs_step s;
    s.target = mount_point_.string();
    if (made_root >= 0) {
      s.what = fs_step::kind::attach;
      s.fd = made_root;
      return std::vector<fs_step>{std::move(s)};
    }
    // overlayfs splits its options at ',' and its lowerdir list at ':'.
    for (const auto& p : {lower_, upper_, work_}) {
      if (p.string().find_first_of(",:\\") != std::string::npos)
        return fail(errc::invalid_argument,
                    "path {} contains ',', ':' or '\\', which overlayfs options cannot hold",
                    p.string());
    }
    s.what = fs_step::kind::mount;
    s.fstype = "overlay";
    s.source = "overlay";
    s.data = "lowerdir=" + lower_.string() + ",upperdir=" + upper_.string() +
             ",workdir=" + work_.string();
    return std::vector<fs_step>{std::move(s)};
  }

  result<unique_fd> shifted_root(int userns) const override {
    BOOST_OUTCOME_TRY(tree, idmapped_tree(lower_, userns));
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
