// A VE created without a diskspace gets one: its files move from the private area's upper
// directory onto a disk image of their own, the way create would have made it.

#include "fail.hpp"
#include "kernel/ext4_image.hpp"
#include "kernel/ext4_quota.hpp"
#include "kernel/host_tool.hpp"
#include "ve/storage.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ovz::detail {
namespace {

// The image staged beside the area until its files are in: a VE whose move fails or is
// interrupted keeps its directory, and storage_kind_of() never sees a half image.
result<void> fill_image(const ve_paths& staged, const ve_paths& l, const disk_params& disk) {
  BOOST_OUTCOME_TRY(target, mount_disk(staged, disk));
  // cp -a keeps what the overlay's upper layer holds: owners, modes, times, hard links,
  // xattrs (overlayfs' own, ACLs, file capabilities) and whiteouts (0:0 character devices).
  // What it makes lands in the image's upper directory, which is already in the VE's
  // project where the kernel keeps quota.
  const auto into = fmt::format("/proc/{}/fd/{}/fs", ::getpid(), target.mount.get());
  auto copied = run_tool({"cp", "-a", "--", (l.upper / ".").string(), into}, capture::out_and_err);
  if (!copied)
    return with_context(copied.error(), fmt::format("copy VE {}'s files from {} onto its disk",
                                                     l.id.value(), l.upper.string()));
  if (!target.enforced) return success();
  BOOST_OUTCOME_TRY(usage, usage_of(target.mount.get(), quota_kind::project, ve_project));
  if (usage.kib > disk.diskspace->hard)
    return fail(errc::invalid_argument,
                "DISKSPACE {}: VE {}'s files take {} KiB, more than that", disk.diskspace->hard,
                l.id.value(), usage.kib);
  if (disk.diskinodes && usage.inodes > disk.diskinodes->hard)
    return fail(errc::invalid_argument, "DISKINODES {}: VE {} has {} files, more than that",
                disk.diskinodes->hard, l.id.value(), usage.inodes);
  return success();
}

}  // namespace

result<void> move_onto_image(const ve_paths& l, const disk_params& disk) {
  struct stat upper {};
  if (::stat(l.upper.c_str(), &upper) != 0) return sys_fail(errno, "stat {}", l.upper.string());
  ve_paths staged = l;
  staged.disk_image = l.private_dir / (l.disk_image.filename().string() + ".new");
  std::error_code ec;
  std::filesystem::remove(staged.disk_image, ec);  // an earlier move's, interrupted
  BOOST_OUTCOME_TRY(make_ext4_image(staged.disk_image, disk.diskspace->hard,
                                    disk.diskinodes ? disk.diskinodes->hard : 0, upper.st_uid,
                                    kernel_has_quota_format()));
  auto filled = fill_image(staged, l, disk);
  if (filled) {
    std::filesystem::create_directories(l.disk_stage, ec);
    if (ec) filled = sys_fail(ec.value(), "create {}", l.disk_stage.string());
  }
  if (filled && ::rename(staged.disk_image.c_str(), l.disk_image.c_str()) != 0)
    filled = sys_fail(errno, "rename {} to {}", staged.disk_image.string(), l.disk_image.string());
  if (!filled) {
    std::filesystem::remove(staged.disk_image, ec);
    return filled.error();
  }
  // The files are on the disk now; a directory left behind only takes room.
  return remove_dirs({l.upper, l.work});
}

}  // namespace ovz::detail
