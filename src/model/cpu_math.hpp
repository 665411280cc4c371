#pragma once
// The kernel's numbers for OpenVZ's CPU settings: pure conversions into what the cgroup
// limits hold (v1's units; the v2 backend converts shares to its weight itself), tested on
// their own.

#include <cstdint>
#include <optional>

namespace ovz::detail {

/// cgroup v1 cpu.shares for cpuunits: units × 1024 / 1000, clamped to the kernel's range
/// [2, 262144]. OpenVZ's default 1000 units becomes the kernel's default 1024 shares, and the
/// ratio between two VEs is kept (up to rounding and the clamp).
std::uint64_t shares_from_cpuunits(std::uint32_t units);

/// The CFS quota (cpu.cfs_quota_us, or the first field of cpu.max) for one period: the smaller
/// of cpulimit % of the period and cpus × 100 % of it. 0 or no value sets no ceiling; nullopt
/// when neither does. `period_us` is at most 1 s (the kernel's bound), so the products fit.
std::optional<std::uint64_t> quota_us(std::optional<std::uint32_t> cpulimit,
                                      std::optional<std::uint32_t> cpus, std::uint64_t period_us);

}  // namespace ovz::detail
