#include "ve/storage.hpp"

#include "fail.hpp"
#include "kernel/ext4_image.hpp"
#include "kernel/idmap.hpp"
#include "kernel/loop_device.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace ovz::detail {
namespace {

class image final : public ve_storage {
 public:
  image(const ve_paths& l, std::filesystem::path lower, result<disk_params> disk)
      : lower_(std::move(lower)), image_(l.disk_image), stage_(l.disk_stage),
        area_(l.private_dir), mount_point_(l.mount_point), disk_(std::move(disk)) {}

  std::string describe() const override {
    return fmt::format("overlay lower={} upper={} work={} in the ext4 image {}",
                       lower_.string(), (stage_ / upper_name).string(),
                       (stage_ / work_name).string(), image_.string());
  }

  result<void> create_area(const std::filesystem::path& area, uid_t root_id) const override {
    if (!disk_) return disk_.error();
    if (!disk_.value().diskspace)
      return fail(errc::invalid_argument, "a disk image needs a DISKSPACE");
    const auto tree = area / ".disk";
    BOOST_OUTCOME_TRY(make_layer_dirs(tree / upper_name, tree / work_name, root_id));
    const auto& d = disk_.value();
    BOOST_OUTCOME_TRY(make_ext4_image(area / image_.filename(), d.diskspace->hard,
                                      d.diskinodes ? d.diskinodes->hard : 0, tree));
    std::error_code ec;
    std::filesystem::remove_all(tree, ec);
    if (ec) return sys_fail(ec.value(), "remove {}", tree.string());
    std::filesystem::create_directory(area / stage_.filename(), ec);
    if (ec) return sys_fail(ec.value(), "create {}", (area / stage_.filename()).string());
    return success();
  }

  result<uid_t> root_owner() const override {
    BOOST_OUTCOME_TRY(disk, mounted());
    struct stat st {};
    if (::fstatat(disk.get(), upper_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_fail(errno, "stat {} in {}", upper_name, image_.string());
    return st.st_uid;
  }

  result<unique_fd> made_root() const override { return host_root(); }

  result<std::vector<fs_step>> root_steps(int made_root) const override {
    if (made_root < 0)
      return fail(errc::invalid_argument, "a VE's disk image is mounted by the host only");
    fs_step s;
    s.target = mount_point_.string();
    s.what = fs_step::kind::attach;
    s.fd = made_root;
    return std::vector<fs_step>{std::move(s)};
  }

  result<unique_fd> shifted_root(int userns) const override {
    BOOST_OUTCOME_TRY(tree, idmapped_tree(lower_, userns));
    return overlay_on(std::move(tree));
  }

  result<unique_fd> host_root() const override {
    BOOST_OUTCOME_TRY(tree, cloned_tree(lower_));
    return overlay_on(std::move(tree));
  }

  result<void> remove_area() const override {
    // A device still bound (a mount the host holds) keeps the data until it is released.
    std::error_code ec;
    for (const auto& p : {area_, mount_point_}) {
      std::filesystem::remove_all(p, ec);
      if (ec) return sys_fail(ec.value(), "remove {}", p.string());
    }
    return success();
  }

 private:
  static constexpr const char* upper_name = "fs";
  static constexpr const char* work_name = "work";

  // The image's ext4, mounted detached; its loop device stays bound while the mount lives.
  result<unique_fd> mounted() const {
    BOOST_OUTCOME_TRY(loop, bind_loop(image_));
    return mount_ext4(loop, image_);
  }

  result<unique_fd> overlay_on(unique_fd lower) const {
    BOOST_OUTCOME_TRY(disk, mounted());
    return detached_overlay(std::move(lower), mount_point_, stage_ / upper_name,
                            stage_ / work_name, {disk.get(), stage_});
  }

  std::filesystem::path lower_, image_, stage_, area_, mount_point_;
  result<disk_params> disk_;
};

}  // namespace

std::shared_ptr<const ve_storage> image_storage(const ve_paths& l,
                                                std::filesystem::path template_root,
                                                result<disk_params> disk) {
  return std::make_shared<image>(l, std::move(template_root), std::move(disk));
}

}  // namespace ovz::detail
