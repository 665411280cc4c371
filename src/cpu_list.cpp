#include "cpu_list.hpp"

#include "fail.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace ovz::detail {
namespace {

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

}  // namespace

result<cpu_set> parse_cpu_list(std::string_view text) {
  auto refuse = [&](std::string_view why) {
    return fail(errc::invalid_argument, "Invalid cpumask \"{}\": {}", excerpt(text), why);
  };
  if (text.empty()) return refuse("empty (give a list like 0-3,6 or \"all\")");
  cpu_set cpus;
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    auto dash = item.find('-');
    auto first = parse_cpu(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : parse_cpu(item.substr(dash + 1));
    if (!first || !last)
      return refuse(fmt::format("\"{}\" is not a CPU number or a range N-M", excerpt(item)));
    if (*first >= max_cpus || *last >= max_cpus)
      return refuse(fmt::format("\"{}\": CPU numbers go from 0 to {}", excerpt(item), max_cpus - 1));
    if (*first > *last) return refuse(fmt::format("\"{}\" is a reversed range", excerpt(item)));
    for (auto cpu = *first; cpu <= *last; ++cpu) cpus.set(cpu);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return cpus;
}

std::string cpu_list_text(const cpu_set& cpus) {
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

result<std::string> take_cpus(std::string_view available, std::uint32_t count,
                              std::uint64_t start) {
  while (!available.empty() && (available.back() == '\n' || available.back() == ' '))
    available.remove_suffix(1);
  BOOST_OUTCOME_TRY(from, parse_cpu_list(available));
  std::vector<std::uint32_t> listed;
  for (std::uint32_t cpu = 0; cpu < max_cpus; ++cpu)
    if (from.test(cpu)) listed.push_back(cpu);
  if (count == 0 || count >= listed.size()) return std::string();
  cpu_set chosen;
  for (std::size_t i = 0; i < count; ++i) chosen.set(listed[(start + i) % listed.size()]);
  return cpu_list_text(chosen);
}

}  // namespace ovz::detail
