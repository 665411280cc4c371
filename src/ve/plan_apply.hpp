#pragma once
// A plan made real: the host's side (directories, the id-shifted root, the cgroup with its
// limits and device rules, the network) around a source of the VE's init. A spawn is the
// source today; a CRIU restore is another that keeps everything but the spawn.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "model/layout.hpp"
#include "ve/host_services.hpp"
#include "ve/plan.hpp"

#include <chrono>
#include <functional>
#include <vector>

namespace ovz::detail {

/// What the host does for a new init while it waits, before it runs anything of the VE's.
struct init_preparation {
  std::function<result<void>(pid_t)> admit;    ///< into the VE's cgroup
  std::function<result<void>(pid_t)> network;  ///< the VE's network, in its namespace
};

class process_source {
 public:
  virtual ~process_source() = default;
  /// Brings the VE's init into being as `plan` says, its root made by `root_steps` (the
  /// storage's) before the plan's mounts, born in the cgroup `cgroup_fd` where the kernel
  /// can (-1: none), prepared by `prep` with its PID.
  virtual result<process> start(const ve_plan& plan, std::vector<fs_step> root_steps,
                                int cgroup_fd, init_preparation prep) = 0;
  /// True when the VE's side of its network (devices, addresses, routes) comes with the
  /// process, and the host only equips the ends of the pairs it finds.
  virtual bool restores_network() const { return false; }
};

/// What every source's spawn of the plan's init has: its namespaces and id maps, hostname,
/// root (`root_steps`, then the plan's mounts), and the spawn helper.
void place_in_plan(spawn_spec& spec, const ve_plan& plan, std::vector<fs_step> root_steps);

/// A new process (clone3, kernel/spawn.cpp) running the plan's init. Detached, it is not the
/// caller's child, and one that exits within `settle` of its exec, before it first waits for
/// something, is a failed start.
class spawn_source final : public process_source {
 public:
  /// `detach`: the VE outlives the caller (start), else the caller waits for it (run).
  spawn_source(bool detach, std::chrono::milliseconds settle, std::filesystem::path state_root)
      : detach_(detach), settle_(settle), state_root_(std::move(state_root)) {}
  result<process> start(const ve_plan& plan, std::vector<fs_step> root_steps, int cgroup_fd,
                        init_preparation prep) override;

 private:
  bool detach_;
  std::chrono::milliseconds settle_;
  std::filesystem::path state_root_;
};

/// Starts the VE `l` as `plan` says, its init from `source`. What it made on the host is
/// removed again when the start fails.
result<process> apply_plan(const ve_plan& plan, const ve_layout& l, const host_services& h,
                           process_source& source);

}  // namespace ovz::detail
