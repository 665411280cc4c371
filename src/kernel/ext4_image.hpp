#pragma once
// An ext4 filesystem in a sparse image file: made with mkfs.ext4, mounted through a loop
// device as a detached mount, grown while mounted, shrunk while not. A VE's disk.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include "kernel/loop_device.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>

namespace ovz::detail {

/// Makes `image` a sparse file of `kib` KiB holding a new, empty ext4 with `inodes` inodes
/// (0: mkfs's default, one per 16 KiB), its root directory owned by uid and gid `owner`;
/// with `quota`, ext4's quota and project features (user, group and project quota), which
/// only a kernel with a quota format mounts read-write.
result<void> make_ext4_image(const std::filesystem::path& image, std::uint64_t kib,
                             std::uint64_t inodes, uid_t owner, bool quota);

/// A detached mount (fsmount) of the ext4 on `loop`, whose image is `image`. Freed blocks go
/// back to the host (discard punches holes in the image). An image with quota features is
/// mounted with its limits enforced, and refused, naming them, by a kernel without quota.
result<unique_fd> mount_ext4(const loop_binding& loop, const std::filesystem::path& image);

/// Grows the image and the ext4 in it, which `mount` (from mount_ext4) has mounted, to `kib`
/// KiB, while it is in use: the kernel does it only for a caller with CAP_SYS_RESOURCE
/// (errc::unsupported without). On a failure the image keeps its size.
result<void> grow_ext4(int mount, const loop_binding& loop, const std::filesystem::path& image,
                       std::uint64_t kib);

/// Resizes the image and the ext4 in it, which nothing may have mounted, to `kib` KiB
/// (e2fsck -f, then resize2fs). resize2fs' refusal (more in use than fits) comes back as is,
/// and the image keeps its size.
result<void> resize_ext4_image(const std::filesystem::path& image, std::uint64_t kib);

/// What statfs says of a mounted filesystem, in KiB and inodes.
struct fs_counts {
  std::uint64_t kib_total = 0;
  std::uint64_t kib_used = 0;
  std::uint64_t inodes_total = 0;
  std::uint64_t inodes_used = 0;
};
result<fs_counts> counts_of(int mount);

/// Whether this kernel can keep quota on ext4 (the quota_v2 format, built in or a module):
/// without it, ext4's quota features cannot be mounted read-write.
bool kernel_has_quota_format();

}  // namespace ovz::detail
