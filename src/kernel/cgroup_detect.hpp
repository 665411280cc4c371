#pragma once
// Which cgroup manager a host gets (host_cgroups(), kernel/cgroup_manager.hpp): the facts
// looked up, and the choice made from them, apart so that the choice is tested on made-up
// hosts.

#include <ovz/result.hpp>

#include <string>

namespace ovz::detail {

struct cgroup_host_facts {
  bool cgroup2 = false;         // the cgroup mount is cgroup2 (a unified host)
  bool systemd_booted = false;  // systemd is the init, as sd_booted(3) tells
};

/// Looks at the host: `cgroup_mount` (/sys/fs/cgroup) and `systemd_dir` (/run/systemd/system,
/// a directory only systemd as PID 1 makes). An error when the cgroup mount cannot be stat'ed.
result<cgroup_host_facts> probe_cgroup_host(const std::string& cgroup_mount,
                                            const std::string& systemd_dir);

enum class cgroup_pick { cgroupfs_v1, cgroupfs_v2, systemd };
/// systemd where it owns a unified tree: it regards every cgroup in it as its own. On a v1 or
/// hybrid host the v1 hierarchies VEs use are left to cgroupfs, as before.
cgroup_pick pick_cgroup_manager(const cgroup_host_facts& host);

/// Where a systemd that is PID 1 answers without a D-Bus daemon (root only).
inline constexpr const char* system_manager_bus = "unix:path=/run/systemd/private";

}  // namespace ovz::detail
