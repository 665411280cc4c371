#pragma once
/// @file
/// The resource settings of a VE that `ovzctl set` changes: beancounters, CPU and disk.

#include <ovz/beancounter.hpp>
#include <ovz/cpu.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace ovz::inline v0 {

class ve_config;

/// A set of changes; what is not named stays as it is.
struct ve_params {
  std::vector<std::pair<ubc_resource, ubc_value>> ubc{};
  cpu_params cpu{};
  disk_params disk{};
};

/// The smallest settings a VE boots with. Below them it cannot: with fewer processes init's
/// first fork fails, with less RAM the memory cgroup kills init before it runs, with fewer
/// open files a shell cannot open its pipes; and CPUS 0 would be no CPU at all.
inline constexpr std::uint64_t min_numproc = 8;
inline constexpr std::uint64_t min_physpages = 4096;  ///< in pages: 16 MiB
inline constexpr std::uint64_t min_numfile = 64;
inline constexpr std::uint32_t min_cpus = 1;

/// Refuses settings below those minimums (NUMPROC's and PHYSPAGES' limit, NUMFILE's barrier
/// and limit, CPUS) with errc::invalid_argument naming the setting and its minimum.
OVZ_API result<void> check_bootable(const ve_params& p);

/// The settings a CTID.conf holds (NUMPROC="B:L", …, CPUUNITS, CPULIMIT, CPUS, CPUMASK,
/// DISKSPACE, DISKINODES, QUOTATIME, QUOTAUGIDLIMIT);
/// errc::bad_config naming the key on a bad value.
OVZ_API result<ve_params> params_from_config(const ve_config& conf);
/// Writes the settings into a config, in OpenVZ's keys and syntax.
OVZ_API result<void> params_to_config(const ve_params& p, ve_config& conf);

}  // namespace ovz::inline v0
