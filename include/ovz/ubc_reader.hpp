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

/// Reads the beancounters of every running VE under a state root, as all_beancounters()
/// does, but keeps between reads what it opened: each VE's cgroup files and its processes'
/// /proc files stay open and are reread in place, and a CTID.conf is parsed again only when
/// it changed. A VE created, started, stopped or destroyed between two reads shows in the
/// next. It holds about 20 descriptors per running VE plus 2 per process (see RLIMIT_NOFILE;
/// a read that runs out fails with EMFILE and the next one tries again). One thread at a
/// time; movable.
class OVZ_API ubc_reader {
 public:
  /// A reader of the VEs under `state_root` (empty: the default). A state root not made yet
  /// has no VEs.
  static result<ubc_reader> open(const std::filesystem::path& state_root = {});

  ubc_reader(ubc_reader&&) noexcept;
  ubc_reader& operator=(ubc_reader&&) noexcept;
  ~ubc_reader();

  /// Every running VE's beancounters now, by CTID.
  result<std::vector<ubc_snapshot>> read();

  /// Where the counters come from on this host: "cgroup files" (the kernel's cgroup v1 or
  /// v2 counters, and /proc for the beancounters cgroups do not count).
  std::string_view backend() const noexcept;

  struct state;

 private:
  explicit ubc_reader(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
};

}  // namespace ovz::inline v0
