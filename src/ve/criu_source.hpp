#pragma once
// CRIU as the source of a VE's init: a restore of a checkpoint's process tree into the host
// side apply_plan made (cgroup, network, storage), its init the child of a new monitor.

#include <ovz/fd.hpp>

#include "ve/plan_apply.hpp"

#include <filesystem>

namespace ovz::detail {

class criu_source final : public process_source {
 public:
  /// The file of a checkpoint with what the VE's cgroups enable for their children
  /// (kernel/cgroup_subtree.hpp).
  static constexpr const char controls_name[] = "cgroup-controls";

  /// `images`: the checkpoint's directory, open; `externals` as the dump had them;
  /// `cgroup`: the VE's cgroup as /proc/PID/cgroup names it; `v2_dir` where it is on
  /// cgroup v2 (empty on v1).
  criu_source(unique_fd images, std::filesystem::path state_root,
              std::vector<std::string> externals, std::string cgroup,
              std::filesystem::path v2_dir)
      : images_(std::move(images)),
        state_root_(std::move(state_root)),
        externals_(std::move(externals)),
        cgroup_(std::move(cgroup)),
        v2_dir_(std::move(v2_dir)) {}
  result<process> start(const ve_plan& plan, std::vector<fs_step> root_steps, int cgroup_fd,
                        init_preparation prep) override;
  bool restores_network() const override { return true; }

 private:
  result<void> enable_controls() const;

  unique_fd images_;
  std::filesystem::path state_root_;
  std::vector<std::string> externals_;
  std::string cgroup_;
  std::filesystem::path v2_dir_;
};

}  // namespace ovz::detail
