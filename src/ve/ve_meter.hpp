#pragma once
// One VE's beancounters, read again and again at a small cost: its cgroup's files and its
// processes' /proc files stay open between reads (see cgroup_dir::hold_files, proc_meter),
// its CTID.conf is parsed again only when it changed, and its limits are read back from its
// cgroup only when the mark of their last write changed (kernel/limits_mark.hpp).

#include <ovz/beancounter.hpp>
#include <ovz/host.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>
#include <ovz/ve_params.hpp>

#include "kernel/cgroup_dir.hpp"
#include "kernel/cgroup_limits.hpp"
#include "kernel/ovz_module.hpp"
#include "kernel/proc_locks.hpp"
#include "kernel/proc_usage.hpp"
#include "model/layout.hpp"

#include <sys/stat.h>

#include <optional>
#include <vector>

namespace ovz::detail {

class ve_meter {
 public:
  explicit ve_meter(const ve& v) : v_(v) {}

  /// Its beancounters now; nullopt when it is stopped and `only_running`. `locks` is
  /// /proc/locks as read once for all VEs; `module` the ovz module's snapshot taken for this
  /// read (null: none), whose record of this VE, if it has one, replaces the files that
  /// show the same counters. Errors name the VE.
  result<std::optional<ubc_snapshot>> read(bool only_running, const std::vector<held_lock>& locks,
                                           const module_snapshot* module);

 private:
  result<void> load_settings();
  result<std::vector<pid_t>> running_processes();
  const memcg_counters* record_in(const module_snapshot& module);
  void forget_cgroup();

  ve v_;
  std::optional<ve_layout> layout_;
  std::optional<ovz::host> host_;
  struct stat conf_stat_ {};
  ve_params settings_;
  cgroup_limits configured_;  // limits_for(settings_)
  // While the VE runs: its init and its cgroup, files held.
  pid_t init_ = 0;
  std::optional<unsigned long long> init_start_;  // its start in /proc/PID/stat's ticks
  std::optional<ve_cgroup> cgroup_;
  std::optional<cgroup_limits> limits_;  // as read back from it under limits_mark_
  std::uint64_t limits_mark_ = 0;
  proc_meter proc_;
};

}  // namespace ovz::detail
