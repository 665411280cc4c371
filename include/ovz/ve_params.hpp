#pragma once
/// @file
/// The resource settings of a VE that `ovzctl set` changes: beancounters and CPU.

#include <ovz/beancounter.hpp>
#include <ovz/cpu.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <utility>
#include <vector>

namespace ovz {

class ve_config;

/// A set of changes; what is not named stays as it is.
struct ve_params {
  std::vector<std::pair<ubc_resource, ubc_value>> ubc{};
  cpu_params cpu{};
};

/// The settings a CTID.conf holds (NUMPROC="B:L", …, CPUUNITS, CPULIMIT, CPUS, CPUMASK);
/// errc::bad_config naming the key on a bad value.
OVZ_API result<ve_params> params_from_config(const ve_config& conf);
/// Writes the settings into a config, in OpenVZ's keys and syntax.
OVZ_API result<void> params_to_config(const ve_params& p, ve_config& conf);

}  // namespace ovz
