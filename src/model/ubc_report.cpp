#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>
#include <ovz/beancounter.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fail.hpp"

namespace ovz::inline v0 {
namespace {

// The layout of OpenVZ's kernel (kernel/bc/proc.c): CTID column, resource, five counters.
constexpr std::string_view version_line = "Version: 2.5";
constexpr std::string_view header_words[] = {"uid",     "resource", "held",   "maxheld",
                                             "barrier", "limit",    "failcnt"};

void append_line(std::string& out, std::string_view uid, std::string_view resource,
                 const auto& held, const auto& maxheld, const auto& barrier, const auto& limit,
                 const auto& failcnt) {
  fmt::format_to(std::back_inserter(out), "{:>10}  {:<12} {:>20} {:>20} {:>20} {:>20} {:>20}\n",
                 uid, resource, held, maxheld, barrier, limit, failcnt);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  while (true) {
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    if (line.empty()) return words;
    auto end = std::find_if(line.begin(), line.end(), is_space) - line.begin();
    words.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
}

// A counter: plain decimal digits that fit in 64 bits.
std::optional<std::uint64_t> parse_counter(std::string_view word) {
  // from_chars alone would take a sign or stop early at garbage.
  if (!std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t n = 0;
  if (std::from_chars(word.data(), word.data() + word.size(), n).ec != std::errc())
    return std::nullopt;
  return n;
}

}  // namespace

std::string format_user_beancounters(const std::vector<ubc_snapshot>& ves) {
  std::string out(version_line);
  out += '\n';
  append_line(out, header_words[0], header_words[1], header_words[2], header_words[3],
              header_words[4], header_words[5], header_words[6]);
  for (const auto& ve : ves) {
    std::string uid = ve.id.str() + ":";
    for (const auto& s : ve.stats) {
      append_line(out, uid, to_string(s.resource), s.held, s.maxheld, s.barrier, s.limit,
                  s.failcnt);
      uid.clear();  // only a VE's first line names it
    }
  }
  return out;
}

result<std::vector<ubc_snapshot>> parse_user_beancounters(std::string_view text) {
  std::vector<ubc_snapshot> ves;
  // 0: expecting the version line, 1: the header, 2: counter lines.
  int stage = 0;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);

    auto refuse = [&](std::string_view why) {
      return detail::fail(errc::bad_config, "line {}: {}", number, why);
    };
    auto words = split_words(line);
    if (words.empty()) continue;

    if (stage == 0) {
      if (words.size() != 2 || words[0] != "Version:" || words[1] != "2.5")
        return refuse("expected \"Version: 2.5\"");
      ++stage;
      continue;
    }
    if (stage == 1) {
      if (!std::equal(words.begin(), words.end(), std::begin(header_words), std::end(header_words)))
        return refuse(
            "expected the column header \"uid resource held maxheld barrier limit "
            "failcnt\"");
      ++stage;
      continue;
    }

    // A VE's first line starts with "CTID:", the rest continue the VE above them.
    if (words.size() == 7) {
      std::string_view uid = words.front();
      if (!uid.ends_with(':')) return refuse("expected \"CTID:\" before the resource");
      uid.remove_suffix(1);
      auto id = ctid::parse(uid);
      if (!id) return refuse(id.error().message());
      if (std::any_of(ves.begin(), ves.end(), [&](const auto& v) { return v.id == *id; }))
        return refuse(fmt::format("VE {} appears twice", uid));
      ves.push_back({.id = *id, .stats = {}});
      words.erase(words.begin());
    } else if (words.size() != 6) {
      return refuse(
          fmt::format("expected a resource and five counters, found {} words", words.size()));
    } else if (ves.empty()) {
      return refuse("expected \"CTID:\" on the first line of a VE");
    }

    auto resource = parse_ubc_resource(words[0]);
    if (!resource) return refuse(resource.error().message());
    auto& stats = ves.back().stats;
    if (std::any_of(stats.begin(), stats.end(),
                    [&](const auto& s) { return s.resource == *resource; }))
      return refuse(fmt::format("{} appears twice for VE {}", words[0], ves.back().id.str()));

    std::uint64_t counters[5];
    for (std::size_t i = 0; i < 5; ++i) {
      auto n = parse_counter(words[i + 1]);
      if (!n) return refuse(fmt::format("\"{}\" is not a counter", detail::excerpt(words[i + 1])));
      counters[i] = *n;
    }
    stats.push_back({.resource = *resource,
                     .held = counters[0],
                     .maxheld = counters[1],
                     .barrier = counters[2],
                     .limit = counters[3],
                     .failcnt = counters[4]});
  }
  if (stage == 0) return detail::fail(errc::bad_config, "line 1: expected \"Version: 2.5\"");
  if (stage == 1)
    return detail::fail(errc::bad_config, "line {}: expected the column header", number + 1);
  return ves;
}

}  // namespace ovz::inline v0
