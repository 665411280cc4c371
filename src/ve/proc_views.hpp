#pragma once
// A VE's own /proc views (meminfo, cpuinfo, stat, loadavg, uptime, swaps: its memory limit,
// its CPUs, its load, its age) where the companion kernel module is loaded: the monitor
// registers the VE with the module, and the start binds the module's ovzproc files over the
// VE's /proc files. Without the module a VE reads the host's, but for its uptime (its time
// namespace) and the files the start masks (ve/rootfs.cpp).

#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include "kernel/ovz_module.hpp"
#include "model/layout.hpp"

#include <filesystem>
#include <optional>

namespace ovz::detail {

/// Where a start of the VE mounts ovzproc for its binds (run/CTID.proc), when the module is
/// loaded and has it; empty otherwise. A module of another ABI is an error.
result<std::filesystem::path> proc_views_source(const ve_paths& l);

/// ovzproc mounted at `where` for as long as it lives: the VE's binds keep what they bound
/// after it is gone, and the module is pinned only while a VE holds them.
class proc_views_mount {
 public:
  static result<proc_views_mount> mount(const std::filesystem::path& where);
  proc_views_mount(proc_views_mount&& o) noexcept : where_(std::exchange(o.where_, {})) {}
  proc_views_mount& operator=(proc_views_mount&&) = delete;
  ~proc_views_mount();

 private:
  explicit proc_views_mount(std::filesystem::path where) : where_(std::move(where)) {}
  std::filesystem::path where_;
};

/// Registers the running VE `v` (init's pidfd `init`) with the module, with its CTID.conf's
/// beancounters and CPUs; nullopt when no module is loaded.
result<std::optional<module_registration>> register_with_module(const ve& v, int init);

}  // namespace ovz::detail
