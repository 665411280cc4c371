#pragma once
// CRIU as the source of a VE's init: a restore of a checkpoint's process tree into the host
// side apply_plan made (cgroup, network, storage), its init the child of a new monitor.

#include <ovz/fd.hpp>

#include "ve/plan_apply.hpp"

#include <filesystem>

namespace ovz::detail {

class criu_source final : public process_source {
 public:
  /// `images`: the checkpoint's directory, open.
  criu_source(unique_fd images, std::filesystem::path state_root)
      : images_(std::move(images)), state_root_(std::move(state_root)) {}
  result<process> start(const ve_plan& plan, std::vector<fs_step> root_steps, int cgroup_fd,
                        std::function<result<void>(pid_t)> prepare) override;

 private:
  unique_fd images_;
  std::filesystem::path state_root_;
};

}  // namespace ovz::detail
