#pragma once
// The companion kernel module (kmod/), through its device /dev/ovz: whether it is loaded and
// speaks our ABI, and a VE registered with it for as long as a registration lives (the module
// drops a VE when the file that registered it closes: a monitor that dies takes it along).

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include "kernel/cgroup_limits.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

/// /dev/ovz opened where a module of our ABI with `feature` is loaded; nullopt where there
/// is none (no module, another ABI, an older module without it: the caller does without).
std::optional<unique_fd> open_ovz_module_with(bool ovz_module_info::*feature);

/// A file of /dev/ovz to register one VE through; the registration lives as long as the
/// file (whoever holds it: the VE's monitor). ENOENT when no module is loaded.
result<unique_fd> open_ovz_module();

/// Registers the VE `ve` describes through `module_fd`.
result<void> register_ve(int module_fd, const module_ve& ve);
/// Gives the registered VE of `ve.pidfd` its CPUs and beancounters now, through any file
/// (ABI 1.1); ENOENT when the module does not know the VE.
result<void> update_ve(int module_fd, const module_ve& ve);

/// One VE's counters in the module's snapshot. Its memcg failcnts are the page counters'
/// (on cgroup v1 memory.failcnt and memory.memsw.failcnt); on v2 they count more than
/// memory.events' `max`, which counts one per refused charge, not one per retry. kmem is 0
/// on v2, which charges kernel memory to memory.
struct module_counters {
  std::string name;  // as registered: the CTID
  memcg_counters memcg;
  std::uint64_t start_boottime_ns = 0;  // its init's start, CLOCK_BOOTTIME
};

struct module_snapshot {
  std::vector<module_counters> ves;  // by name
};

/// Every registered VE's counters now, in one read of `module_fd`; it also marks the
/// snapshot's generation as seen by this file, so that poll() waits for the next change.
/// `buffer` is reused from one call to the next (it grows when more VEs are registered).
result<module_snapshot> read_snapshot(int module_fd, std::vector<unsigned char>& buffer);
/// The snapshot's header alone (the module counts no VE for it): the generation, marked as
/// seen by this file as read_snapshot() does, at a fraction of its cost.
result<std::uint64_t> read_generation(int module_fd);

}  // namespace ovz::detail
