#pragma once
// The seam between the VE model and the kernel's cgroup interfaces. One backend per cgroup
// version, chosen by detection at run time: cgroup v2 where /sys/fs/cgroup is cgroup2, v1 on
// legacy and hybrid hosts (controllers mounted one per directory under /sys/fs/cgroup).
// Paths are relative to the hierarchy roots, e.g. "ovz/101".

#include <ovz/result.hpp>

#include "kernel/cgroup_limits.hpp"

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ovz::detail {

class cgroup_backend {
 public:
  virtual ~cgroup_backend() = default;

  /// 1 or 2.
  virtual int version() const noexcept = 0;
  /// Creates the cgroup and its missing parents, with the controllers VEs use enabled.
  virtual result<void> create(const std::string& path) = 0;
  /// Moves a process into the cgroup.
  virtual result<void> attach(const std::string& path, pid_t pid) = 0;
  /// The processes in the cgroup; an empty list when it does not exist.
  virtual result<std::vector<pid_t>> procs(const std::string& path) const = 0;
  virtual bool exists(const std::string& path) const = 0;
  /// SIGKILLs everything in the cgroup and waits until it is empty.
  virtual result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) = 0;
  /// Removes the cgroup (it must be empty); fine when it does not exist.
  virtual result<void> remove(const std::string& path) = 0;
  /// Removes the cgroup if it exists and is empty; otherwise leaves it.
  virtual void remove_if_unused(const std::string& path) noexcept = 0;

  /// Writes every limit; a live cgroup changes at once. A limit the kernel refuses comes back
  /// as its errno with the file and value named.
  virtual result<void> apply(const std::string& path, const cgroup_limits& limits) = 0;
  /// The counters of the cgroup; all zero (and `measured`) when it does not exist.
  virtual result<cgroup_usage> usage(const std::string& path) const = 0;
  /// Lets the cgroup's processes open (read, write, mknod) only these device nodes: the
  /// devices controller on v1, a BPF device program attached to the cgroup on v2.
  virtual result<void> allow_devices(const std::string& path,
                                     const std::vector<device_rule>& allowed) = 0;
  /// Files the kernel notifies (inotify IN_MODIFY) when a limit is hit; none on v1.
  virtual std::vector<std::string> event_files(const std::string& path) const = 0;
};

std::unique_ptr<cgroup_backend> make_cgroup_v1();
std::unique_ptr<cgroup_backend> make_cgroup_v2(std::string mount_point);

/// The host's cgroup backend, detected once per process.
result<cgroup_backend*> host_cgroups();

}  // namespace ovz::detail
