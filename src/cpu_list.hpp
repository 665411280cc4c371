#pragma once
// CPU lists as cpumask and the kernel's cpuset files write them ("0-3,6"), for the model
// (CPUMASK) and the cgroup backends (a VE's share of its parent's CPUs) alike.

#include <ovz/result.hpp>

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

namespace ovz::detail {

/// vzctl's bounds: CPU numbers below 4096 (its cpumask width), and so at most 4096 CPUs.
inline constexpr std::uint32_t max_cpus = 4096;
using cpu_set = std::bitset<max_cpus>;

/// A CPU list as cpumask and the kernel's cpuset files write it ("0-3,6"); errors name the
/// item that is not a CPU number or range.
result<cpu_set> parse_cpu_list(std::string_view text);
/// The canonical list the kernel prints: ascending runs, "a-b" or "a".
std::string cpu_list_text(const cpu_set& cpus);

/// `count` of the CPUs in `available` (a cpuset file's list, a newline after it or not),
/// consecutive from the one at position `start` (taken modulo their number, wrapping round).
/// Empty when `count` is 0 or not below the number available: then all of them.
result<std::string> take_cpus(std::string_view available, std::uint32_t count,
                              std::uint64_t start);

}  // namespace ovz::detail
