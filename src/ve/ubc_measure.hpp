#pragma once
// A VE's beancounters from what the sources the table (model/ubc_table.hpp) names say of it,
// in OpenVZ's units.

#include <ovz/beancounter.hpp>

#include "kernel/cgroup_limits.hpp"
#include "kernel/proc_usage.hpp"

#include <cstdint>

namespace ovz::detail {

/// What each source said of a VE at one moment; all zero for a stopped VE.
struct ubc_readings {
  cgroup_usage cgroup;
  proc_usage proc;
  bool running = false;
};

struct ubc_measured {
  std::uint64_t held = 0;
  std::uint64_t peak = 0;
  std::uint64_t failcnt = 0;
  bool measured = false;  // a source on this host counts it
  bool enforced = false;  // the kernel limit its setting becomes is applied here
};

/// One resource's numbers. Resources nothing on this host counts stay unmeasured: a zero
/// there is "unknown", never a made-up number.
ubc_measured measure(ubc_resource r, const ubc_readings& in);

}  // namespace ovz::detail
