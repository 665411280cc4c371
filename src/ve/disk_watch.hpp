#pragma once
// A running VE's disk usage against the soft limits of DISKSPACE and DISKINODES, looked at
// once per watcher poll: where the kernel keeps no quota, crossing one is reported and
// nothing else; where it does, the kernel holds the VE to it as well.

#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>

#include <array>
#include <cstdint>
#include <vector>

namespace ovz::detail {

class disk_soft_watch {
 public:
  /// Watches `v` if it has a disk image (a VE without one cannot get one), else nothing.
  explicit disk_soft_watch(const ve& v);

  /// The soft limits the VE's usage reached since the last look, as events (failcnt
  /// counting the crossings). Over a limit at the first look is not news, as a beancounter's
  /// failcnt before the watcher started is not. A VE that is not running has nothing to say.
  std::vector<ubc_event> look();

 private:
  std::optional<ve> ve_;
  bool first_ = true;
  std::array<bool, 2> above_{};
  std::array<std::uint64_t, 2> crossings_{};
};

}  // namespace ovz::detail
