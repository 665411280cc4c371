#pragma once
// CRIU as the source of a VE's init: a restore of a checkpoint's process tree into the host
// side apply_plan made (cgroup, network, storage), its init the child of a new monitor.

#include <ovz/fd.hpp>

#include "ve/plan_apply.hpp"

#include <filesystem>

namespace ovz::detail {

class criu_source final : public process_source {
 public:
  /// `images`: the checkpoint's directory, open; `externals` as the dump had them.
  criu_source(unique_fd images, std::filesystem::path state_root,
              std::vector<std::string> externals)
      : images_(std::move(images)),
        state_root_(std::move(state_root)),
        externals_(std::move(externals)) {}
  result<process> start(const ve_plan& plan, std::vector<fs_step> root_steps, int cgroup_fd,
                        init_preparation prep) override;
  bool restores_network() const override { return true; }

 private:
  unique_fd images_;
  std::filesystem::path state_root_;
  std::vector<std::string> externals_;
};

}  // namespace ovz::detail
