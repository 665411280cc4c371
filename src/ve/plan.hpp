#pragma once
// A VE's plan: everything a start makes of it — namespaces, id maps, the root filesystem's
// storage and mounts, cgroup limits, device rules, confinement, network, hostname, /etc files,
// environment, init, console log — as one value, computed from CTID.conf, the layout and a
// few facts of the host by code that makes no system call (plan_for), printable (to_text),
// and applied by one function with a source of the VE's init (apply_plan, ve/plan_apply.hpp).
// A spawn is that source today; a CRIU restore or an OCI bundle builds or consumes the same.

#include <ovz/config.hpp>
#include <ovz/ctid.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/network.hpp>
#include <ovz/result.hpp>
#include <ovz/ve_params.hpp>

#include "kernel/cgroup_limits.hpp"
#include "kernel/cgroup_mounts.hpp"
#include "kernel/idmap.hpp"
#include "kernel/ovz_module.hpp"
#include "model/id_range.hpp"
#include "model/layout.hpp"
#include "ve/confine.hpp"
#include "ve/devices.hpp"
#include "ve/etc_files.hpp"
#include "ve/storage.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {

/// What a plan needs that only the host can tell: gathered by gather_plan_inputs.
/// Where a VE's own /proc views come from on this host: the ovz module (an ovzproc the start
/// mounts at `dir` for its binds), LXCFS (its proc/ directory at `dir`, mounted by the host),
/// or nowhere (the host's files).
struct proc_views_source {
  enum class kind { none, module, lxcfs } what = kind::none;
  std::filesystem::path dir{};
  /// The /proc files bound from `dir`.
  std::vector<std::string> files{};
  bool bound() const noexcept { return what != kind::none; }
  bool mounted_per_start() const noexcept { return what == kind::module; }
};

struct plan_inputs {
  std::filesystem::path template_root;  // OSTEMPLATE, found in the template store
  storage_kind storage = storage_kind::overlay;  // what the private area holds
  std::vector<host_devnode> devnodes;   // DEVNODES, matched with the host's /dev
  confine_inputs confine;
  std::filesystem::path monitor;  // the monitor program (find_monitor)
  std::vector<cgroup_hierarchy> cgroups;  // the hierarchies the VE gets a cgroup in
  std::string host_resolv{};  // the host's resolv.conf, when NAMESERVER or SEARCHDOMAIN inherit
  proc_views_source proc_views{};
};

/// Reads what plan_for needs of the host for this CTID.conf.
result<plan_inputs> gather_plan_inputs(const ve_config& conf, const ve_paths& l,
                                       const std::filesystem::path& state_root);

/// A user namespace of its own: its id maps, and how its root is shown in it.
struct userns_plan {
  std::vector<id_map> uid_map{};
  std::vector<id_map> gid_map{};
  /// A VE's range, to which its storage is shown id-shifted. None: the root is used as it is
  /// stored (an OCI bundle's, which its owner made for these maps).
  std::optional<id_range> shifted{};
  /// The host ids of root inside, to whom its cgroup and files are handed; none where the
  /// maps leave root out.
  std::optional<uid_t> root_uid() const { return mapped_id(uid_map, 0); }
  std::optional<gid_t> root_gid() const { return mapped_id(gid_map, 0); }
};

struct ve_plan {
  ctid id;
  std::string cgroup{};
  ns_set namespaces{};
  // Existing namespaces its init is made in, by their files (an OCI bundle's paths).
  std::vector<std::pair<ns_type, std::filesystem::path>> join{};
  std::optional<userns_plan> userns{};
  std::shared_ptr<const ve_storage> storage{};
  std::filesystem::path root{};  // where the storage is attached (in its mount namespace) and pivoted into
  std::vector<fs_step> mounts{};  // on the root, after the storage's own steps
  cgroup_limits limits{};
  std::vector<device_rule> device_rules{};
  std::map<std::string, std::string> cgroup_files{};  // cgroup v2 files by name, after limits
  std::vector<host_devnode> devnodes{};
  confinement confine{};
  ve_network network{};
  std::string hostname{};
  std::optional<etc_settings> etc{};  // written into its /etc before init runs; none: untouched
  std::vector<std::string> env{};
  std::vector<std::string> init{};
  std::string cwd = "/";  // the init's working directory
  std::map<std::string, std::string> sysctl{};  // its namespaces' kernel parameters
  std::filesystem::path console{};  // the console log, which the monitor writes
  std::filesystem::path monitor{};
  proc_views_source proc_views{};  // the files bound over its /proc, and from where
  module_ve module{};  // what the ovz module is told of it, with the module's views
};

/// What the ovz module is told of a VE with these settings: its name, the CPUs it sees, its
/// beancounters' barriers and limits (no descriptors yet).
module_ve module_view(ctid id, const ve_params& settings);

/// The plan of a start of the VE: `init` is its command (empty: /sbin/init). Refuses what
/// CTID.conf gets wrong (errc::bad_config, errc::invalid_argument). No system call.
result<ve_plan> plan_for(const ve_config& conf, const ve_layout& l, const plan_inputs& host,
                         const std::vector<std::string>& init = {});

/// The plan as text, a line per item ("ovzctl plan CTID").
std::string to_text(const ve_plan& p);

}  // namespace ovz::detail
