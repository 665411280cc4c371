#include "kernel/cpu_weight.hpp"

#include <algorithm>

namespace ovz::detail {

std::uint64_t weight_from_shares(std::uint64_t shares) {
  // runc's ConvertCPUSharesToCgroupV2Value and crun's convert_shares_to_weight: the linear map
  // of v1's range [2, 262144] (kernel/sched/sched.h, MIN_SHARES and MAX_SHARES) onto
  // [1, 10000], so 1024 shares give 39 rather than v2's default 100.
  shares = std::clamp<std::uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

}  // namespace ovz::detail
