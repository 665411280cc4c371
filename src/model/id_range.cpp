#include "model/id_range.hpp"

#include "fail.hpp"

#include <charconv>
#include <limits>

namespace ovz::detail {
namespace {

std::optional<std::uint32_t> number(std::string_view s) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

result<id_range> parse_id_range(std::string_view text) {
  auto colon = text.find(':');
  auto base = number(text.substr(0, colon));
  auto count = colon == std::string_view::npos ? std::nullopt : number(text.substr(colon + 1));
  if (!base || !count || *count == 0 ||
      std::uint64_t{*base} + *count > std::uint64_t{std::numeric_limits<std::uint32_t>::max()})
    return fail(errc::bad_config,
                "USERNS_MAP \"{}\" is not \"<host base>:<count>\" with a count above 0 inside "
                "the 32-bit id space",
                excerpt(text));
  if (*base == 0)
    return fail(errc::bad_config, "USERNS_MAP \"{}\" would map the VE's root to the host's root",
                excerpt(text));
  return id_range{*base, *count};
}

std::string format_id_range(const id_range& r) { return fmt::format("{}:{}", r.base, r.count); }

std::vector<id_range> parse_subid(std::string_view text) {
  std::vector<id_range> ranges;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    auto range = parse_id_range(line.substr(first + 1));
    if (range) ranges.push_back(*range);
  }
  return ranges;
}

std::optional<id_range> free_id_range(const std::vector<id_range>& taken) {
  const std::uint64_t last = std::numeric_limits<std::uint32_t>::max();
  for (std::uint64_t base = first_ve_id; base + ve_id_count - 1 <= last; base += ve_id_count) {
    id_range candidate{static_cast<std::uint32_t>(base), ve_id_count};
    bool free = true;
    for (const auto& t : taken) {
      if (candidate.overlaps(t)) {
        free = false;
        break;
      }
    }
    if (free) return candidate;
  }
  return std::nullopt;
}

}  // namespace ovz::detail
