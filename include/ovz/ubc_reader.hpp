#pragma once
/// @file
/// Beancounter snapshots of every running VE, taken again and again at a small cost per VE:
/// what a hosting panel or a monitor pays to refresh its view of a host.

#include <ovz/beancounter.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

/// What a ubc_reader may read the counters from.
enum class ubc_sources {
  /// The ovz kernel module's snapshot wherever it is loaded (now or at a later read), the
  /// cgroup and /proc files for the rest.
  any,
  /// The cgroup and /proc files alone: the reader keeps no /dev/ovz open, which would keep
  /// the module from being unloaded.
  files_only,
};

/// Reads the beancounters of every running VE under a state root, as all_beancounters()
/// does, but keeps between reads what it opened: each VE's cgroup files and its processes'
/// /proc files stay open and are reread in place, a CTID.conf is parsed again only when it
/// changed, and the limits in force are read back from a VE's cgroup only when the library
/// wrote them since (each start and live change marks the cgroup: a limit written into a
/// cgroup by hand shows here after the next such change or a restart of the VE). A VE
/// created, started, stopped or destroyed between two reads shows in the next. It holds about 20 descriptors per running VE plus 2 per process (see RLIMIT_NOFILE;
/// a read that runs out fails with EMFILE and the next one tries again), and /dev/ovz where
/// the ovz module is loaded (see backend()). One thread at a time; movable.
class OVZ_API ubc_reader {
 public:
  /// A reader of the VEs under `state_root` (empty: the default), from any source. A state
  /// root not made yet has no VEs.
  static result<ubc_reader> open(const std::filesystem::path& state_root = {});
  /// A reader of the VEs under `state_root` from `sources` only.
  static result<ubc_reader> open(const std::filesystem::path& state_root, ubc_sources sources);

  ubc_reader(ubc_reader&&) noexcept;
  ubc_reader& operator=(ubc_reader&&) noexcept;
  ~ubc_reader();

  /// Every running VE's beancounters now, by CTID.
  result<std::vector<ubc_snapshot>> read();

  /// Where the counters come from on this host, as of the last read (or open()):
  /// - "cgroup files": the kernel's cgroup v1 or v2 counter files, and /proc for the
  ///   beancounters cgroups do not count;
  /// - "ovz module + cgroup files": the ovz kernel module (kmod/) is loaded and the reader
  ///   holds /dev/ovz: one read of it gives every VE's memory counters (physpages' and
  ///   swappages' held, physpages' maxheld; on cgroup v1 also kmemsize's held and their
  ///   failcnts), the files the rest. A VE the module does not know (started before it was
  ///   loaded) is read from its files alone. The numbers mean the same either way.
  std::string_view backend() const noexcept;

  struct state;

 private:
  explicit ubc_reader(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
};

}  // namespace ovz::inline v0
