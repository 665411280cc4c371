#include <algorithm>
#include <bitset>
#include <charconv>
#include <ovz/cpu.hpp>
#include <string>
#include <string_view>

#include "fail.hpp"
#include "model/cpu_math.hpp"

namespace ovz::inline v0 {
namespace {

// vzctl's bounds: CPU numbers below 4096 (its cpumask width), and so at most 4096 CPUs.
constexpr std::uint32_t max_cpus = 4096;
constexpr std::uint32_t cpulimit_max = 100 * max_cpus;

// The kernel's bounds of cpu.shares (kernel/sched/sched.h, MIN_SHARES and MAX_SHARES).
constexpr std::uint64_t min_shares = 2;
constexpr std::uint64_t max_shares = 262144;

// A CPU number: plain digits (from_chars alone would stop at garbage), below max_cpus.
std::optional<std::uint32_t> parse_cpu(std::string_view word) {
  if (word.empty() ||
      !std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint32_t n = 0;
  if (std::from_chars(word.data(), word.data() + word.size(), n).ec != std::errc())
    return max_cpus;  // too large for 32 bits: out of range like any number >= max_cpus
  return n;
}

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
  auto refuse = [&](std::string_view why) {
    return detail::fail(errc::invalid_argument, "Invalid cpumask \"{}\": {}", detail::excerpt(text), why);
  };
  if (text == "all") return std::string(text);
  if (text.empty()) return refuse("empty (give a list like 0-3,6 or \"all\")");

  std::bitset<max_cpus> cpus;
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    auto dash = item.find('-');
    auto first = parse_cpu(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : parse_cpu(item.substr(dash + 1));
    if (!first || !last)
      return refuse(fmt::format("\"{}\" is not a CPU number or a range N-M", detail::excerpt(item)));
    if (*first >= max_cpus || *last >= max_cpus)
      return refuse(fmt::format("\"{}\": CPU numbers go from 0 to {}", detail::excerpt(item), max_cpus - 1));
    if (*first > *last) return refuse(fmt::format("\"{}\" is a reversed range", detail::excerpt(item)));
    for (auto cpu = *first; cpu <= *last; ++cpu) cpus.set(cpu);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }

  // The canonical list the kernel prints (cpuset.cpus): ascending runs, "a-b" or "a".
  std::string out;
  for (std::uint32_t cpu = 0; cpu < max_cpus;) {
    if (!cpus.test(cpu)) {
      ++cpu;
      continue;
    }
    auto end = cpu;
    while (end + 1 < max_cpus && cpus.test(end + 1)) ++end;
    if (!out.empty()) out += ',';
    out += end == cpu ? fmt::format("{}", cpu) : fmt::format("{}-{}", cpu, end);
    cpu = end + 1;
  }
  return out;
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
