#pragma once
// Beancounters that cgroups do not count, measured from /proc over a VE's processes.

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace ovz::detail {

struct proc_usage {
  std::uint64_t files = 0;          // open descriptors
  std::uint64_t tcp_sockets = 0;    // TCP sockets in use in the VE's network namespace
  std::uint64_t other_sockets = 0;  // its other sockets
  std::uint64_t locked_bytes = 0;   // VmLck
  std::uint64_t privvm_bytes = 0;   // VmData + VmStk: private writable memory committed
  std::uint64_t ptys = 0;           // terminals open in the VE's devpts
  std::uint64_t flocks = 0;         // file locks held (not waited for)
};

/// Measures the processes `pids` of a VE whose init is `init`. Processes that exit meanwhile
/// are skipped.
proc_usage measure_processes(const std::vector<pid_t>& pids, pid_t init);

}  // namespace ovz::detail
