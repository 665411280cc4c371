#pragma once
// The companion kernel module (kmod/), through its device /dev/ovz: whether it is loaded and
// speaks our ABI, and a VE registered with it for as long as a registration lives (the module
// drops a VE when the file that registered it closes: a monitor that dies takes it along).

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace ovz::detail {

struct ovz_module_info {
  unsigned major = 0;
  unsigned minor = 0;
  bool snapshot = false;   // read() gives every registered VE's counters
  bool poll = false;       // poll() wakes on a failcnt change
  bool proc_views = false; // the ovzproc filesystem
};

/// The module loaded now; nullopt when there is none (no /dev/ovz). A module of another ABI
/// major is errc::unsupported, naming both: the library cannot read what it answers.
result<std::optional<ovz_module_info>> probe_ovz_module();

/// What the module is told of a VE: its init, its cgroup (a cgroup v2 directory; -1: the
/// init's memory cgroup), its name, the CPUs it sees (0: its cpuset's) and each beancounter's
/// barrier and limit in /proc/user_beancounters' order, as the VE's /proc shows them.
struct module_ve {
  int pidfd = -1;
  int cgroup_fd = -1;
  std::string name;
  std::uint32_t cpus = 0;
  std::array<std::pair<std::uint64_t, std::uint64_t>, 21> ubc{};
};

/// A file of /dev/ovz to register one VE through; the registration lives as long as the
/// file (whoever holds it: the VE's monitor). ENOENT when no module is loaded.
result<unique_fd> open_ovz_module();

/// Registers the VE `ve` describes through `module_fd`.
result<void> register_ve(int module_fd, const module_ve& ve);
/// Gives the registered VE of `ve.pidfd` its CPUs and beancounters now, through any file
/// (ABI 1.1); ENOENT when the module does not know the VE.
result<void> update_ve(int module_fd, const module_ve& ve);

}  // namespace ovz::detail
