#include "kernel/cgroup_detect.hpp"

#include "fail.hpp"
#include "kernel/cgroup_manager.hpp"
#include "log.hpp"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <mutex>

namespace ovz::detail {

result<cgroup_host_facts> probe_cgroup_host(const std::string& cgroup_mount,
                                            const std::string& systemd_dir) {
  struct statfs st {};
  if (::statfs(cgroup_mount.c_str(), &st) != 0)
    return sys_fail(errno, "statfs {} (is cgroupfs mounted?)", cgroup_mount);
  struct stat sd {};
  return cgroup_host_facts{
      .cgroup2 = st.f_type == CGROUP2_SUPER_MAGIC,
      .systemd_booted = ::lstat(systemd_dir.c_str(), &sd) == 0 && S_ISDIR(sd.st_mode)};
}

cgroup_pick pick_cgroup_manager(const cgroup_host_facts& host) {
  if (!host.cgroup2) return cgroup_pick::cgroupfs_v1;
  return host.systemd_booted ? cgroup_pick::systemd : cgroup_pick::cgroupfs_v2;
}

result<cgroup_manager*> host_cgroups() {
  static std::once_flag once;
  static std::unique_ptr<cgroup_manager> manager;
  static error detect_error;
  std::call_once(once, [] {
    const std::string mount = "/sys/fs/cgroup";
    auto facts = probe_cgroup_host(mount, "/run/systemd/system");
    if (!facts) {
      detect_error = facts.error();
      return;
    }
    switch (pick_cgroup_manager(*facts)) {
      case cgroup_pick::systemd:
        if (auto sd = make_systemd_cgroups(system_manager_bus, mount)) {
          manager = std::move(*sd);
          return;
        } else {
          // A systemd that does not answer cannot make scopes; libovz's own cgroups still work.
          log_error(log_level::warning,
                    "systemd runs this host (/run/systemd/system) but cannot be asked for VE "
                    "scopes; libovz makes the VEs' cgroups in /sys/fs/cgroup itself",
                    sd.error());
        }
        [[fallthrough]];
      case cgroup_pick::cgroupfs_v2: manager = make_cgroupfs_v2(mount); return;
      case cgroup_pick::cgroupfs_v1: manager = make_cgroupfs_v1(); return;
    }
  });
  if (!manager) return detect_error;
  return manager.get();
}

}  // namespace ovz::detail
