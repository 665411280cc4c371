#pragma once
// The kernel's quota on a VE's ext4 image, where the kernel has it: the whole VE is one
// project (its overlay's upper and work directories, which every file it writes inherits),
// and the project's limits and grace time are DISKSPACE, DISKINODES and QUOTATIME.

#include <ovz/disk_quota.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {

/// The ext4 features an image made with ext4_quota_features() below has: "quota", "project",
/// "quota and project", or "" for an image without.
std::string quota_features_of(const std::filesystem::path& image);

/// The project every file of a VE's disk belongs to.
inline constexpr std::uint32_t ve_project = 1;

/// Puts the directory `dir` (an fd), and what is made in it from now on, in ve_project.
result<void> tag_project(int dir, const std::string& what);

/// The three kinds of quota an image keeps: per user and per group (the VE's second level,
/// ids as stored on the disk) and per project (the VE as a whole).
enum class quota_kind { user, group, project };

/// One id's limits (0: none): space in KiB, inodes.
struct id_limits {
  disk_limit kib{};
  disk_limit inodes{};
  bool operator==(const id_limits&) const = default;
};

/// What the kernel counts of one id: usage, limits, and when an exceeded soft limit's grace
/// ends (seconds since the epoch; 0 while it is not exceeded).
struct id_usage {
  std::uint32_t id = 0;
  std::uint64_t kib = 0, inodes = 0;
  id_limits limits{};
  std::uint64_t kib_grace_ends = 0, inodes_grace_ends = 0;
};

/// Sets the limits of `id` on the ext4 `mount` is the root of (quotactl_fd), where they
/// differ: setting a limit restarts the grace time of a soft limit the id is over.
result<void> set_id_limits(int mount, quota_kind kind, std::uint32_t id, const id_limits& l);
/// What the kernel counts of `id`.
result<id_usage> usage_of(int mount, quota_kind kind, std::uint32_t id);
/// Every id of that kind with usage or limits, in id order (Q_GETNEXTQUOTA).
result<std::vector<id_usage>> all_usage_of(int mount, quota_kind kind);
/// Seconds left of a grace that ends at `ends` (id_usage's): none while no soft limit is
/// exceeded, 0 once it has run out.
std::optional<std::uint64_t> grace_left(std::uint64_t ends);
/// quotactl_fd(2) on the ext4 `mount` is the root of, `cmd` (Q_*) with the kernel's own
/// structures at `addr`: 0, or the errno it failed with.
int quotactl_on(int mount, int cmd, quota_kind kind, std::uint32_t id, void* addr);
/// Sets the grace time of soft limits of `kind`, where it differs.
result<void> set_grace(int mount, quota_kind kind, std::uint64_t seconds);

}  // namespace ovz::detail
