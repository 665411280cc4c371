#pragma once
/// @file
/// ovz::host: the machine libovz works on — its cgroup hierarchy and its network stack. A ve
/// opened without one uses the host detected once per process; an embedder that runs in a
/// delegated cgroup subtree, or a test against a fake cgroupfs in a temporary directory,
/// passes its own to ve::open.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace ovz::detail {
struct host_services;
}

namespace ovz::inline v0 {

class OVZ_API host {
 public:
  /// This machine as libovz sees it: cgroup v2 when /sys/fs/cgroup is a cgroup2 mount,
  /// otherwise the v1 controllers of a legacy or hybrid host. On cgroup v2 where systemd is
  /// the init (/run/systemd/system exists) and answers on its private socket, VEs' cgroups are
  /// systemd scopes (see with_systemd()); when it does not answer, libovz makes them itself
  /// and logs why (set_log_handler). Detected once per process; every call returns the same
  /// host.
  static result<host> detect();
  /// A host whose VEs' cgroups are made in the cgroup v2 hierarchy at `cgroup_root` (a
  /// mount of cgroup2, a delegated subtree of one, or a directory tree that stands in for
  /// one) instead of /sys/fs/cgroup.
  static host with_cgroup_v2(const std::filesystem::path& cgroup_root);
  /// A host whose VEs' cgroups are made by the systemd at `bus_address` (sd-bus's address
  /// syntax: "unix:path=/run/systemd/private" for the system's, a user manager's
  /// "unix:path=$XDG_RUNTIME_DIR/systemd/private"), in the cgroup2 hierarchy at `cgroup_root`:
  /// each VE a transient scope "ovz-<cgroup parent>-<CTID>.scope" in machine.slice with
  /// Delegate=yes, its cgroup "ve" below it. Fails when that systemd does not answer.
  static result<host> with_systemd(const std::string& bus_address,
                                   const std::filesystem::path& cgroup_root = "/sys/fs/cgroup");

  /// Who makes the VEs' cgroups: "cgroupfs" (libovz itself) or "systemd".
  const char* cgroup_manager() const noexcept;

  /// 1 or 2.
  int cgroup_version() const noexcept;

  /// What the library reaches the kernel through (not part of the stable API).
  const detail::host_services& services() const noexcept;

 private:
  explicit host(std::shared_ptr<const detail::host_services> s) : services_(std::move(s)) {}
  std::shared_ptr<const detail::host_services> services_;
};

/// Tunes the host's kernel for VEs that come and go, as a VE host's boot does once (the
/// ovz.service unit runs `ovzctl tune-host`): the cgroup core favours moving tasks between
/// cgroups over forking (cgroup2's favordynmods, kept on the host's cgroup2 mount with its
/// other options). Without it, the first write of a new process into a cgroup waits for an RCU
/// grace period, 5–15 ms on an idle machine: every VE start on cgroup v1, where a VE's init is
/// moved into its cgroups, and every attach of a process to a cgroup on v2. With it fork and
/// exit take a per-process lock more. On Linux 6.18 the switch cannot be undone until reboot.
/// And it raises the inotify limits per user (fs.inotify.max_user_instances and
/// max_user_watches) to at least the floors below, which the VEs without a user namespace
/// share with the host's root: a systemd inside takes 5 or 6 instances, and Debian's 128 run
/// out at about the 25th such VE, whose systemd then starts none of its services. A higher
/// value set by the host stays. Returns true when it changed something, false when the host was
/// tuned already; errc::unsupported on a kernel without favordynmods (before 6.0), with the
/// inotify limits raised.
OVZ_API result<bool> tune_host();

/// The floors tune_host raises the inotify limits to: a thousand VEs' systemd and the host's.
inline constexpr std::uint64_t inotify_instances_floor = 8192;
inline constexpr std::uint64_t inotify_watches_floor = 1048576;

/// What serves each view a VE has of itself on this host, by name: ovzctl features prints them.
struct view_backends {
  /// /proc/uptime: "ovz module", "time namespace" (the VE's clocks start at zero), "LXCFS"
  /// or "host".
  std::string uptime;
  /// /proc's meminfo, cpuinfo, stat, loadavg, swaps: "ovz module" (the VE's memory limit,
  /// CPUs and load), "LXCFS" (where the host runs it, mounted at $OVZ_LXCFS or
  /// /var/lib/lxcfs) or "host" (the host's numbers).
  std::string proc_files;
  /// Beancounter snapshots (ubc_reader): "cgroup files".
  std::string beancounters;
  /// The companion kernel module: "ABI 1.0", "not loaded", or why it is not used (a module
  /// of another ABI).
  std::string module;
  /// The module is loaded and speaks this library's ABI.
  bool module_loaded = false;
};

/// The view backends of this host now (the module may be loaded or removed at any time).
OVZ_API view_backends view_backends_here();

}  // namespace ovz::inline v0
