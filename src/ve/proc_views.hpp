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
#include "ve/plan.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace ovz::detail {

/// Where a start of the VE gets its /proc views: the module's ovzproc (mounted at
/// run/CTID.proc for the start's binds) where it is loaded, else LXCFS where the host runs it
/// (its mount at $OVZ_LXCFS, else /var/lib/lxcfs), else none. A module of another ABI is an
/// error.
result<proc_views_source> proc_views_source_for(const ve_paths& l);

/// The directory LXCFS is mounted on here, if it runs.
std::optional<std::filesystem::path> lxcfs_here();

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

/// The mount points (as the VE sees them: "/proc/meminfo") of its files bound from ovzproc
/// or LXCFS, for a checkpoint: CRIU cannot dump a filesystem it does not know, so they are its
/// externals, and the restore binds them again.
result<std::vector<std::string>> proc_view_binds(pid_t init);

/// CRIU's externals for those binds: at the dump, each mount point named
/// ("mnt[/proc/meminfo]:ovzproc/proc/meminfo"); at a restore, each name given the file of
/// `source` to bind (an ovzproc mounted for the restore, LXCFS's proc/, or the host's /proc
/// where neither is here: the restored VE then reads the host's numbers, as it would after a
/// start there).
std::vector<std::string> proc_view_externals(const std::vector<std::string>& binds);
std::vector<std::string> proc_view_externals(const std::vector<std::string>& binds,
                                             const std::filesystem::path& source);

/// Tells the module the running VE of `init` has these settings now (a live change), where
/// the module is loaded and knows the VE.
result<void> update_module_view(pid_t init, const module_ve& view);

/// The VE's /proc views as detached copies of the mounts of their files, which its init
/// attaches over its /proc files (steps added to `steps`; the descriptors are theirs, to hold
/// until the spawn is done): in a user namespace the init could not walk the state root's
/// run/ to bind them by path.
result<std::vector<unique_fd>> proc_view_trees(const ve_plan& plan, std::vector<fs_step>& steps);

/// The /dev/ovz file a start or restore of `plan` registers its init through and hands to
/// the VE's monitor, which holds it for the VE's life; none when the plan binds no views.
result<unique_fd> module_file_for(const ve_plan& plan);

/// Registers `init` (the VE's cgroup: `cgroup_fd` on cgroup v2, -1 on v1) through
/// `module_fd` with the name, CPUs and beancounters `plan` gives; nothing when there is no
/// file.
result<void> register_init(int module_fd, const ve_plan& plan, pid_t init, int cgroup_fd);

}  // namespace ovz::detail
