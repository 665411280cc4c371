#pragma once
// cgroup v2's cpu.weight for the v1 cpu.shares the limits carry: a conversion between two
// kernel interfaces, so it lives beside the v2 backend and is tested on its own.

#include <cstdint>

namespace ovz::detail {

/// cgroup v2 cpu.weight for cpu.shares: 1 + ((shares − 2) × 9999) / 262142, the linear map of
/// [2, 262144] onto [1, 10000] that crun and runc use (convert_shares_to_weight, and the
/// Kubernetes "cgroup v2 support" KEP); shares outside [2, 262144] are clamped first.
std::uint64_t weight_from_shares(std::uint64_t shares);

}  // namespace ovz::detail
