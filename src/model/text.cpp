#include "model/text.hpp"

namespace ovz::detail {
namespace {

constexpr std::string_view blanks = " \t\r";

}  // namespace

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto eol = text.find('\n');
    lines.push_back(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }
  return lines;
}

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> words;
  while (true) {
    auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) break;
    s.remove_prefix(first);
    auto end = s.find_first_of(blanks);
    words.emplace_back(s.substr(0, end));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  return words;
}

std::optional<std::uint64_t> binary_multiple(char suffix) {
  switch (suffix) {
    case 'K': case 'k': return std::uint64_t{1} << 10;
    case 'M': case 'm': return std::uint64_t{1} << 20;
    case 'G': case 'g': return std::uint64_t{1} << 30;
    case 'T': case 't': return std::uint64_t{1} << 40;
    default: return std::nullopt;
  }
}

}  // namespace ovz::detail
