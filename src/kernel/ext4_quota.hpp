#pragma once
// The kernel's quota on a VE's ext4 image, where the kernel has it: the whole VE is one
// project (its overlay's upper and work directories, which every file it writes inherits),
// and the project's limits and grace time are DISKSPACE, DISKINODES and QUOTATIME.

#include <ovz/disk_quota.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace ovz::detail {

/// The ext4 features an image made with ext4_quota_features() below has: "quota", "project",
/// "quota and project", or "" for an image without.
std::string quota_features_of(const std::filesystem::path& image);

/// The project every file of a VE's disk belongs to.
inline constexpr std::uint32_t ve_project = 1;

/// Puts the directory `dir` (an fd), and what is made in it from now on, in ve_project.
result<void> tag_project(int dir, const std::string& what);

/// The limits of ve_project on the ext4 `mount` is the root of (quotactl_fd): space in KiB,
/// inodes, and the grace time of both.
struct project_limits {
  disk_limit kib{};
  disk_limit inodes{};
  std::uint64_t grace = 0;
};
result<void> set_project_limits(int mount, const project_limits& l);

/// What the kernel counts of ve_project: usage, limits, and when an exceeded soft limit's
/// grace ends (seconds since the epoch; 0 while it is not exceeded).
struct project_usage {
  std::uint64_t kib = 0, inodes = 0;
  project_limits limits{};
  std::uint64_t kib_grace_ends = 0, inodes_grace_ends = 0;
};
result<project_usage> project_usage_of(int mount);

}  // namespace ovz::detail
