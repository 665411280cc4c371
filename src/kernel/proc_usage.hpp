#pragma once
// Beancounters that cgroups do not count, measured from /proc over a VE's processes.

#include <ovz/fd.hpp>

#include "kernel/proc_locks.hpp"

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

/// Measures one VE's processes, again and again: what it opens (each process's status and
/// descriptor directory, the VE's sockstat files and devpts) stays open and is reread in
/// place next time, as long as the process (or, for the VE's files, its init) is the same.
/// Not for more than one thread.
class proc_meter {
 public:
  /// The processes `pids` of a VE whose init is `init`; `locks` is /proc/locks, read once for
  /// every VE. Processes that exit meanwhile are skipped.
  proc_usage measure(const std::vector<pid_t>& pids, pid_t init,
                     const std::vector<held_lock>& locks);

 private:
  struct process_files {
    pid_t pid = 0;
    unique_fd status;
    unique_fd fds;  // its fd/ directory
  };
  bool measure_process(process_files& p, proc_usage& u);

  pid_t init_ = 0;
  unique_fd sockstat_, sockstat6_;
  unique_fd pts_;  // the VE's devpts
  std::vector<process_files> processes_;
};

/// One measurement of the processes `pids` of a VE whose init is `init`.
proc_usage measure_processes(const std::vector<pid_t>& pids, pid_t init);

}  // namespace ovz::detail
