// A VE's disk quota: the image that holds its files, grown, shrunk and measured.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/ext4_image.hpp"
#include "kernel/ext4_quota.hpp"
#include "kernel/loop_device.hpp"
#include "ve/change.hpp"
#include "ve/storage.hpp"
#include "ve/ve_op.hpp"

#include <sys/stat.h>

namespace ovz::detail {
namespace {

// The second level needs the kernel's user and group quota on the VE's disk: at create,
// a kernel that keeps quota (the image gets it); later, an image made with it.
result<void> check_ugid_limit(const disk_params& d, const std::filesystem::path* image) {
  if (!d.quotaugidlimit || *d.quotaugidlimit == 0) return success();
  if (!kernel_has_quota_format())
    return fail(errc::unsupported,
                "QUOTAUGIDLIMIT {}: per-user and per-group quota inside a VE needs the kernel's "
                "disk quota, and this kernel has no quota format (CONFIG_QFMT_V2, module "
                "quota_v2); 0 turns it off",
                *d.quotaugidlimit);
  if (image && quota_features_of(*image).find("quota") != 0)
    return fail(errc::unsupported,
                "QUOTAUGIDLIMIT {}: the VE's disk image {} was made where the kernel kept no "
                "quota, without ext4's quota feature; 0 turns it off",
                *d.quotaugidlimit, image->string());
  return success();
}

error no_image(const ve_paths& l) {
  return fail(errc::unsupported,
              "VE {} keeps its files in {} without a disk image (it was created without a "
              "diskspace), so it has no disk quota: create it with one",
              l.id.value(), l.upper.string());
}

result<std::uint64_t> image_kib(const std::filesystem::path& image) {
  struct stat st {};
  if (::stat(image.c_str(), &st) != 0) return sys_fail(errno, "stat {}", image.string());
  return static_cast<std::uint64_t>(st.st_size) / 1024;
}

// Online where something has the disk mounted (the running VE, another host mount), which
// ext4 allows for growing only; else offline, either way.
result<void> resize_disk(const change_site& site, std::uint64_t kib) {
  const auto& l = site.layout;
  BOOST_OUTCOME_TRY(now, image_kib(l.disk_image));
  if (kib == now) return success();
  BOOST_OUTCOME_TRY(lock, lock_image(l.disk_image));
  if (!lock.bound) return resize_ext4_image(l.disk_image, kib);
  const auto& bound = *lock.bound;
  if (kib < now)
    return fail(site.init_pid ? errc::already_running : errc::locked,
                "DISKSPACE {} is below the disk's {} KiB: ext4 shrinks only while nothing has "
                "it mounted ({}), so stop the VE first",
                kib, now, bound.device);
  BOOST_OUTCOME_TRY(mount, mount_ext4(bound, l.disk_image));
  return grow_ext4(mount.get(), bound, l.disk_image, kib);
}

// Without the kernel's quota the hard inode limit is the image's inode count, fixed when it
// was made; with it, any limit up to that count.
result<void> check_inodes(const ve_paths& l, const disk_params& now, const disk_params& changes) {
  if (!changes.diskinodes) return success();
  const auto features = quota_features_of(l.disk_image);
  if (features.empty()) {
    // An image made without a DISKINODES has ext4's default count: no hard value to keep.
    if (now.diskinodes && changes.diskinodes->hard == now.diskinodes->hard) return success();
    return fail(errc::unsupported,
                "DISKINODES: the hard limit is the inode count of the VE's ext4 image, made "
                "with it ({}), and grows only with DISKSPACE; the image has no quota to hold "
                "the VE to another ({})",
                now.diskinodes ? std::to_string(now.diskinodes->hard)
                               : std::string("ext4's default, one per 16 KiB"),
                kernel_has_quota_format() ? "it was made where the kernel had none"
                                          : "this kernel has none");
  }
  BOOST_OUTCOME_TRY(disk, mount_disk(l, now));
  BOOST_OUTCOME_TRY(counts, counts_of(disk.mount.get()));
  if (changes.diskinodes->hard > counts.inodes_total)
    return fail(errc::invalid_argument,
                "DISKINODES {}: the VE's ext4 image has {} inodes, which is as many as it can "
                "ever hold",
                changes.diskinodes->hard, counts.inodes_total);
  return success();
}

}  // namespace

namespace {

// A VE without a disk image gets one once it is stopped, as create would have made it.
result<undo_step> move_to_disk(change_site& site, const disk_params& changes) {
  const auto& l = site.layout;
  if (!changes.diskspace) return no_image(l);
  if (site.init_pid)
    return fail(errc::already_running,
                "DISKSPACE: VE {} keeps its files in {}, without a disk image; stop it first to "
                "move them onto one",
                l.id.value(), l.upper.string());
  BOOST_OUTCOME_TRY(current, params_from_config(site.conf));
  disk_params wanted = current.disk;
  wanted.diskspace = changes.diskspace;
  if (changes.diskinodes) wanted.diskinodes = changes.diskinodes;
  if (changes.quotatime) wanted.quotatime = changes.quotatime;
  if (changes.quotaugidlimit) wanted.quotaugidlimit = changes.quotaugidlimit;
  BOOST_OUTCOME_TRY(check_create_disk(wanted));
  BOOST_OUTCOME_TRY(move_onto_image(l, wanted));
  BOOST_OUTCOME_TRY(params_to_config({.disk = changes}, site.conf));
  return undo_step{};
}

}  // namespace

result<void> check_create_disk(const disk_params& disk) {
  BOOST_OUTCOME_TRY(check_disk_params(disk));
  if (!disk.diskspace && (disk.diskinodes || disk.quotatime || disk.quotaugidlimit))
    return fail(errc::invalid_argument,
                "diskinodes, quotatime and quotaugidlimit need a diskspace: without one the VE "
                "has no disk image to hold it to them");
  return check_ugid_limit(disk, nullptr);
}

result<undo_step> change_disk(change_site& site, const disk_params& changes) {
  BOOST_OUTCOME_TRY(check_disk_params(changes));
  const auto& l = site.layout;
  if (storage_kind_of(l) != storage_kind::image) return move_to_disk(site, changes);
  BOOST_OUTCOME_TRY(check_ugid_limit(changes, &l.disk_image));
  BOOST_OUTCOME_TRY(current, params_from_config(site.conf));
  BOOST_OUTCOME_TRY(check_inodes(l, current.disk, changes));
  if (changes.diskspace) {
    BOOST_OUTCOME_TRY(resize_disk(site, changes.diskspace->hard));
  }
  BOOST_OUTCOME_TRY(params_to_config({.disk = changes}, site.conf));
  // Mounting it puts the new limits in force where the kernel keeps the disk's quota.
  if (!quota_features_of(l.disk_image).empty()) {
    BOOST_OUTCOME_TRY(updated, params_from_config(site.conf));
    BOOST_OUTCOME_TRY(mount_disk(l, updated.disk));
  }
  return undo_step{};
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

bool kernel_keeps_disk_quota() noexcept {
  try {
    return detail::kernel_has_quota_format();
  } catch (...) {
    return false;
  }
}

result<disk_quota> ve::quota() const {
  return detail::ve_op::run(*this, {.config = true}, [&](detail::ve_op& op) -> result<disk_quota> {
    const auto& l = op.layout;
    if (detail::storage_kind_of(l) != detail::storage_kind::image) return detail::no_image(l);
    BOOST_OUTCOME_TRY(settings, params_from_config(op.conf));
    const auto& d = settings.disk;
    BOOST_OUTCOME_TRY(disk, detail::mount_disk(l, d));
    BOOST_OUTCOME_TRY(counts, detail::counts_of(disk.mount.get()));
    const disk_limit space = d.diskspace.value_or(disk_limit{counts.kib_total, counts.kib_total});
    const disk_limit inodes =
        d.diskinodes.value_or(disk_limit{counts.inodes_total, counts.inodes_total});
    disk_quota q{
        .blocks = {.usage = counts.kib_used, .soft = space.soft, .hard = space.hard},
        .inodes = {.usage = counts.inodes_used, .soft = inodes.soft, .hard = inodes.hard},
        .quotatime = d.quotatime.value_or(0),
        .soft_enforced = disk.enforced};
    if (!disk.enforced) return q;
    // The kernel's count is of the VE's own files; statfs' also has the ext4's metadata.
    BOOST_OUTCOME_TRY(usage, detail::usage_of(disk.mount.get(), detail::quota_kind::project,
                                              detail::ve_project));
    q.blocks.usage = usage.kib;
    q.blocks.grace = detail::grace_left(usage.kib_grace_ends);
    q.inodes.usage = usage.inodes;
    q.inodes.grace = detail::grace_left(usage.inodes_grace_ends);
    return q;
  });
}

}  // namespace ovz::inline v0
