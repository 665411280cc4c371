#pragma once
// What is written into a VE's cgroup and read from it: limits, device rules, usage counters.
// One writer per cgroup version, given the cgroup held open by its manager
// (kernel/cgroup_manager.hpp), which decides where the cgroup is and who owns it.

#include <ovz/result.hpp>

#include "kernel/cgroup_dir.hpp"
#include "kernel/cgroup_limits.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ovz::detail {

class cgroup_resources {
 public:
  virtual ~cgroup_resources() = default;

  /// Writes every limit `limits.fields` names; a live cgroup changes at once. A limit the
  /// kernel refuses comes back as its errno with the file and value named.
  virtual result<void> apply(const ve_cgroup& cg, const cgroup_limits& limits) = 0;
  /// The counters of the cgroup, its sub-cgroups included (the kernel counts them upward).
  /// With `known` (its memory cgroup's page counters, read in the kernel), the files that
  /// show the same counters are not read; those that count otherwise still are.
  virtual result<cgroup_usage> usage(const ve_cgroup& cg,
                                     const memcg_counters* known) const = 0;
  /// The CPU time its processes used, in microseconds, all CPUs together; 0 where no
  /// controller counts it. Apart from usage(): no beancounter shows it, and a snapshot of every
  /// VE would read one more file per VE for nothing.
  virtual result<std::uint64_t> cpu_time_us(const ve_cgroup& cg) const = 0;
  /// The beancounter limits in force in the cgroup as the kernel reports them: pids_max,
  /// memory_max, swap_max and kmem_max (nullopt: none) and, where the kernel keeps them
  /// apart, memory_min and memory_low. `fields` names the groups read (field_pids,
  /// field_memory, field_guarantee); a controller absent here leaves its group out.
  virtual result<cgroup_limits> limits(const ve_cgroup& cg) const = 0;
  /// Lets the cgroup's processes open (read, write, mknod) only these device nodes: the
  /// devices controller on v1, a BPF device program attached to the cgroup on v2. Both hold
  /// for its sub-cgroups too.
  virtual result<void> allow_devices(const ve_cgroup& cg,
                                     const std::vector<device_rule>& allowed) = 0;
  /// Writes files of the cgroup by name, after its limits ("memory.high": "1073741824"), as
  /// an OCI bundle's linux.resources.unified names them: cgroup v2 files only, so on v1
  /// errc::unsupported. A name that is not a plain file name is errc::invalid_argument; one
  /// the cgroup does not have is ENOENT, naming it.
  virtual result<void> write_files(const ve_cgroup& cg,
                                   const std::map<std::string, std::string>& files) = 0;
  /// The names of the files in a cgroup that the kernel notifies (inotify IN_MODIFY) when a
  /// limit is hit; none on v1.
  virtual std::vector<const char*> event_files() const = 0;
};

std::unique_ptr<cgroup_resources> make_cgroup_v1_resources();
std::unique_ptr<cgroup_resources> make_cgroup_v2_resources();

}  // namespace ovz::detail
