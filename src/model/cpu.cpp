#include <ovz/cpu.hpp>

#include <algorithm>
#include <string>
#include <string_view>

#include "fail.hpp"
#include "cpu_list.hpp"
#include "model/cpu_math.hpp"

namespace ovz::inline v0 {
namespace {

using detail::max_cpus;
constexpr std::uint32_t cpulimit_max = 100 * max_cpus;

// The kernel's bounds of cpu.shares (kernel/sched/sched.h, MIN_SHARES and MAX_SHARES).
constexpr std::uint64_t min_shares = 2;
constexpr std::uint64_t max_shares = 262144;

result<void> check_range(const char* name, std::optional<std::uint32_t> value, std::uint32_t min,
                         std::uint32_t max) {
  if (value && (*value < min || *value > max))
    return detail::fail(errc::invalid_argument, "Invalid {} {}: must be from {} to {}", name,
                        *value, min, max);
  return success();
}

}  // namespace

result<void> check_cpu_params(const cpu_params& p) {
  BOOST_OUTCOME_TRY(check_range("cpuunits", p.cpuunits, cpuunits_min, cpuunits_max));
  BOOST_OUTCOME_TRY(check_range("cpulimit", p.cpulimit, 0, cpulimit_max));
  BOOST_OUTCOME_TRY(check_range("cpus", p.cpus, 0, max_cpus));
  if (p.cpumask) {
    BOOST_OUTCOME_TRY(parse_cpumask(*p.cpumask));
  }
  return success();
}

result<std::string> parse_cpumask(std::string_view text) {
  if (text == "all") return std::string(text);
  BOOST_OUTCOME_TRY(cpus, detail::parse_cpu_list(text));
  return detail::cpu_list_text(cpus);
}

}  // namespace ovz::inline v0

namespace ovz::detail {
std::uint64_t shares_from_cpuunits(std::uint32_t units) {
  return std::clamp<std::uint64_t>(std::uint64_t{units} * 1024 / 1000, min_shares, max_shares);
}

std::optional<std::uint64_t> quota_us(std::optional<std::uint32_t> cpulimit,
                                      std::optional<std::uint32_t> cpus, std::uint64_t period_us) {
  std::optional<std::uint64_t> quota;
  auto ceiling = [&](std::uint64_t q) { quota = quota ? std::min(*quota, q) : q; };
  if (cpulimit.value_or(0) != 0) ceiling(*cpulimit * period_us / 100);
  if (cpus.value_or(0) != 0) ceiling(*cpus * period_us);
  return quota;
}

}  // namespace ovz::detail
