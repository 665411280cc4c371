#include "ve/storage.hpp"

#include "fail.hpp"
#include "kernel/ext4_image.hpp"
#include "kernel/ext4_quota.hpp"
#include "kernel/idmap.hpp"
#include "kernel/loop_device.hpp"
#include "kernel/quota_device.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace ovz::detail {
namespace {

constexpr const char* upper_name = "fs";
constexpr const char* work_name = "work";

// The overlay's upper and work directories, made at the first mount with the owner of the
// image's root (the VE's root id), and with the kernel's quota both in the VE's project:
// overlayfs renames from work into upper, which ext4 refuses (EXDEV) between directories of
// different projects.
result<void> make_layers(int disk, const std::filesystem::path& image, bool tagged) {
  struct stat root {};
  if (::fstat(disk, &root) != 0) return sys_fail(errno, "stat the root of {}", image.string());
  for (const char* name : {upper_name, work_name}) {
    if (::mkdirat(disk, name, 0755) == 0) {
      if (::fchownat(disk, name, root.st_uid, root.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_fail(errno, "chown {} in {}", name, image.string());
    } else if (errno != EEXIST) {
      return sys_fail(errno, "create {} in {}", name, image.string());
    }
    if (!tagged) continue;
    unique_fd dir(::openat(disk, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return sys_fail(errno, "open {} in {}", name, image.string());
    BOOST_OUTCOME_TRY(tag_project(dir.get(), fmt::format("{} in {}", name, image.string())));
  }
  return success();
}

// A DISKINODES of none leaves the inodes to the image's count alone (0: no quota limit).
result<void> hold_to(int disk, const disk_params& d) {
  BOOST_OUTCOME_TRY(set_id_limits(disk, quota_kind::project, ve_project,
                                  {.kib = d.diskspace.value_or(disk_limit{}),
                                   .inodes = d.diskinodes.value_or(disk_limit{})}));
  // QUOTATIME is the VE's as a whole; its users' and groups' grace times are the VE's root's
  // to set (setquota -t), a week on a new disk as mke2fs makes it.
  return set_grace(disk, quota_kind::project, d.quotatime.value_or(0));
}

class image final : public ve_storage {
 public:
  image(const ve_paths& l, std::filesystem::path lower, result<disk_params> disk)
      : paths_(l), lower_(std::move(lower)), disk_(std::move(disk)) {}

  std::string describe() const override {
    return fmt::format("overlay lower={} upper={} work={} in the ext4 image {}",
                       lower_.string(), (paths_.disk_stage / upper_name).string(),
                       (paths_.disk_stage / work_name).string(), paths_.disk_image.string());
  }

  result<void> create_area(const std::filesystem::path& area, uid_t root_id) const override {
    if (!disk_) return disk_.error();
    if (!disk_.value().diskspace)
      return fail(errc::invalid_argument, "a disk image needs a DISKSPACE");
    const auto& d = disk_.value();
    std::error_code ec;
    std::filesystem::create_directories(area, ec);
    if (ec) return sys_fail(ec.value(), "create {}", area.string());
    BOOST_OUTCOME_TRY(make_ext4_image(area / paths_.disk_image.filename(), d.diskspace->hard,
                                      d.diskinodes ? d.diskinodes->hard : 0, root_id,
                                      kernel_has_quota_format()));
    std::filesystem::create_directory(area / paths_.disk_stage.filename(), ec);
    if (ec)
      return sys_fail(ec.value(), "create {}", (area / paths_.disk_stage.filename()).string());
    return success();
  }

  result<uid_t> root_owner() const override {
    BOOST_OUTCOME_TRY(disk, mounted());
    struct stat st {};
    if (::fstatat(disk.get(), upper_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_fail(errno, "stat {} in {}", upper_name, paths_.disk_image.string());
    return st.st_uid;
  }

  result<unique_fd> shifted_root(int userns) const override {
    BOOST_OUTCOME_TRY(tree, idmapped_tree(lower_, userns, template_idmap_use));
    return overlay_on(std::move(tree));
  }

  result<unique_fd> host_root() const override {
    BOOST_OUTCOME_TRY(tree, cloned_tree(lower_));
    return overlay_on(std::move(tree));
  }

  // A device still bound (a mount the host holds) keeps the data until it is released.
  result<void> remove_area() const override {
    return remove_dirs({paths_.private_dir, paths_.mount_point});
  }

  // QUOTAUGIDLIMIT 0 turns the second level off, as vzctl's did; an image without ext4's
  // quota feature has none.
  result<void> show_quota_device(pid_t init) const override {
    if (!disk_ || disk_.value().quotaugidlimit.value_or(0) == 0 ||
        quota_features_of(paths_.disk_image).find("quota") != 0)
      return success();
    BOOST_OUTCOME_TRY(loop, bind_loop(paths_.disk_image));
    return detail::show_quota_device(init, loop.device);
  }

 private:
  result<unique_fd> mounted() const {
    if (!disk_) return disk_.error();
    BOOST_OUTCOME_TRY(disk, mount_disk(paths_, disk_.value()));
    return std::move(disk.mount);
  }

  result<unique_fd> overlay_on(unique_fd lower) const {
    BOOST_OUTCOME_TRY(disk, mounted());
    const auto& stage = paths_.disk_stage;
    return detached_overlay(std::move(lower), paths_.mount_point, stage / upper_name,
                            stage / work_name, {disk.get(), stage});
  }

  ve_paths paths_;
  std::filesystem::path lower_;
  result<disk_params> disk_;
};

}  // namespace

result<mounted_disk> mount_disk(const ve_paths& l, const disk_params& disk) {
  BOOST_OUTCOME_TRY(loop, bind_loop(l.disk_image));
  BOOST_OUTCOME_TRY(mount, mount_ext4(loop, l.disk_image));
  const bool enforced = !quota_features_of(l.disk_image).empty();
  BOOST_OUTCOME_TRY(make_layers(mount.get(), l.disk_image, enforced));
  if (enforced) {
    auto held = hold_to(mount.get(), disk);
    if (!held) return with_context(held.error(), fmt::format("VE {}: disk quota", l.id.value()));
  }
  return mounted_disk{std::move(loop), std::move(mount), enforced};
}

std::shared_ptr<const ve_storage> image_storage(const ve_paths& l,
                                                std::filesystem::path template_root,
                                                result<disk_params> disk) {
  return std::make_shared<image>(l, std::move(template_root), std::move(disk));
}

}  // namespace ovz::detail
