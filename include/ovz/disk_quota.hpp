#pragma once
/// @file
/// A VE's disk quota in OpenVZ's terms: DISKSPACE and DISKINODES (soft:hard), QUOTATIME and
/// QUOTAUGIDLIMIT, and the usage `vzquota stat` shows.
///
/// A VE created with a DISKSPACE keeps its files in an ext4 image of its own, loop-attached
/// while in use and holding the upper layer over the shared template. Its hard limits are
/// the image's size and inode count, so they hold on every kernel; `df` inside shows them.
/// Soft limits and QUOTATIME need the kernel's quota: an image made where the kernel keeps
/// it (kernel_keeps_disk_quota()) has ext4's quota, and disk_quota::soft_enforced tells.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

/// One limit pair, as DISKSPACE="SOFT:HARD" writes it.
struct disk_limit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  bool operator==(const disk_limit&) const = default;
};

/// A VE's disk settings; an empty optional leaves that setting as it is.
struct disk_params {
  /// Disk space in 1 KiB blocks (DISKSPACE).
  std::optional<disk_limit> diskspace{};
  /// Inodes (DISKINODES).
  std::optional<disk_limit> diskinodes{};
  /// Seconds a soft limit may be exceeded before it acts as the hard one (QUOTATIME).
  std::optional<std::uint64_t> quotatime{};
  /// How many users and groups the VE's own quota may name; 0: no second level
  /// (QUOTAUGIDLIMIT).
  std::optional<std::uint64_t> quotaugidlimit{};
  bool operator==(const disk_params&) const = default;
};

/// The smallest image a VE's files are kept in: ext4's journal and metadata need room.
inline constexpr std::uint64_t min_diskspace_kib = 16 * 1024;
/// The fewest inodes: a template's /etc, /dev and /run alone take hundreds.
inline constexpr std::uint64_t min_diskinodes = 1024;

/// Parses "SOFT[:HARD]" (a lone value is both); with `blocks`, values in 1 KiB blocks take
/// vzctl's K, M, G and T suffixes (powers of 1024), else they are plain counts.
/// "unlimited" is refused: a VE either has an image of some size or none.
/// errc::invalid_argument when soft exceeds hard or a value does not parse.
OVZ_API result<disk_limit> parse_disk_limit(std::string_view text, bool blocks);
/// "SOFT:HARD", as CTID.conf stores it.
OVZ_API std::string format_disk_limit(const disk_limit& l);
/// Checks the minimums above and that soft ≤ hard; errc::invalid_argument naming the key.
OVZ_API result<void> check_disk_params(const disk_params& p);

/// One row of `vzquota stat`: usage against the limits.
struct disk_usage {
  std::uint64_t usage = 0;
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  /// Seconds left before an exceeded soft limit acts as hard; unset when not exceeded or not
  /// enforced.
  std::optional<std::uint64_t> grace{};
};

/// A VE's disk quota as `ovzctl quota CTID` prints it.
struct disk_quota {
  disk_usage blocks{};  ///< in 1 KiB blocks
  disk_usage inodes{};
  std::uint64_t quotatime = 0;
  /// Whether the kernel holds the VE to its soft limits and grace time; false where it has no
  /// quota (the hard limits hold anyway: they are the image's size and inode count).
  bool soft_enforced = false;
};

/// A user or a group of a VE, by its id inside the VE (vzquota's ugid).
struct quota_ugid {
  enum class kind { user, group };
  kind type = kind::user;
  std::uint32_t id = 0;
  bool operator==(const quota_ugid&) const = default;
};

/// A user's or group's quota inside a VE, the second level (vzquota stat -t): what its files
/// take of the VE's disk against its own limits (0: none) and QUOTATIME's grace.
struct ugid_quota {
  quota_ugid owner{};
  disk_usage blocks{};  ///< in 1 KiB blocks
  disk_usage inodes{};
};

/// repquota's layout: a header, then a row per user or group ("user 1000", "group 33").
OVZ_API std::string format_ugid_quotas(const std::vector<ugid_quota>& all);

/// Whether this host's kernel keeps disk quota (ext4's, with a quota format such as
/// quota_v2 loaded or built in): the disks of VEs created here get it.
OVZ_API bool kernel_keeps_disk_quota() noexcept;

/// vzquota stat's layout: a header line, then a row for 1k-blocks and one for inodes.
OVZ_API std::string format_disk_quota(const disk_quota& q);

}  // namespace ovz::inline v0
