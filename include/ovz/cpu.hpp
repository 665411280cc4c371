#pragma once
/// @file
/// CPU share, limit and affinity of a VE, in OpenVZ's terms.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ovz::inline v0 {

/// A VE's CPU settings; an empty optional leaves that setting as it is.
struct cpu_params {
  /// Relative weight against other VEs: 8 … 500000, OpenVZ's default 1000.
  std::optional<std::uint32_t> cpuunits{};
  /// Ceiling in percent of one CPU (above 100 for several CPUs); 0 means no ceiling.
  std::optional<std::uint32_t> cpulimit{};
  /// Ceiling as a number of CPUs (acts like cpulimit = 100 × cpus), at least 1 (see
  /// check_bootable); unset means no ceiling. Without a cpumask the VE also runs on that many
  /// of the host's CPUs (chosen by CTID, so that VEs spread), which nproc shows inside.
  std::optional<std::uint32_t> cpus{};
  /// The CPUs the VE may run on, as a list like "0-3,6" or "all".
  std::optional<std::string> cpumask{};
};

inline constexpr std::uint32_t cpuunits_min = 8;
inline constexpr std::uint32_t cpuunits_max = 500000;
inline constexpr std::uint32_t cpuunits_default = 1000;

/// Checks ranges and the cpumask syntax; errc::invalid_argument naming the bad value.
OVZ_API result<void> check_cpu_params(const cpu_params& p);

/// Parses a CPU list ("0-3,6", "all") into the canonical form the kernel reads ("0-3,6");
/// "all" stays "all".
OVZ_API result<std::string> parse_cpumask(std::string_view text);

}  // namespace ovz::inline v0
