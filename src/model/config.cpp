#include <algorithm>
#include <ovz/config.hpp>

#include "fail.hpp"

namespace ovz::inline v0 {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

bool is_valid_key(std::string_view key) {
  auto head = [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; };
  auto tail = [&](char c) { return head(c) || (c >= '0' && c <= '9'); };
  return !key.empty() && head(key.front()) && std::all_of(key.begin() + 1, key.end(), tail);
}

// A line read: its key and value, no key for a comment or blank line, or why it is malformed.
struct parsed_line {
  std::string key{};
  std::string value{};
  const char* problem = nullptr;
};

parsed_line parse_line(std::string_view s) {
  s = skip_blanks(s);
  if (s.empty() || s.front() == '#') return {};
  if (s.starts_with("export") && s.size() > 6 && is_blank(s[6])) s = skip_blanks(s.substr(6));
  auto eq = s.find('=');
  if (eq == std::string_view::npos) return {.problem = "expected KEY=value"};
  std::string_view key = s.substr(0, eq);
  if (!is_valid_key(key)) return {.problem = "invalid key (must match [A-Z_][A-Z0-9_]*)"};

  std::string_view rest = s.substr(eq + 1);
  std::string_view value;
  if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
    // Backslashes are taken literally, as vzctl reads them.
    auto close = rest.find(rest.front(), 1);
    if (close == std::string_view::npos) return {.problem = "unterminated quote"};
    value = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
  } else {
    auto end = std::find_if(rest.begin(), rest.end(), is_blank) - rest.begin();
    value = rest.substr(0, end);
    // A shell would join `a"b c"` into one word; rather than guess, refuse it.
    if (value.find_first_of("\"'") != std::string_view::npos)
      return {.problem = "quote inside an unquoted value"};
    rest.remove_prefix(end);
  }
  rest = skip_blanks(rest);
  if (!rest.empty() && rest.front() != '#') return {.problem = "unexpected text after the value"};
  return {.key = std::string(key), .value = std::string(value)};
}

// Comments and blank lines have an empty key, which no caller's key may match.
bool has_key(const auto& l, std::string_view key) { return !key.empty() && l.key == key; }

}  // namespace

// lines_ holds the text split at every '\n', so a text ending in a newline has an empty last
// element, and joining the elements gives the text back byte for byte.
result<ve_config> ve_config::parse(std::string_view text, std::string_view origin) {
  ve_config cfg;
  std::size_t number = 0;
  for (;;) {
    ++number;
    auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    auto p = parse_line(raw);
    if (p.problem)
      return detail::fail(errc::bad_config, "{} line {}: {} in: {}", origin, number, p.problem,
                          detail::excerpt(raw));
    cfg.lines_.push_back({std::string(raw), std::move(p.key), std::move(p.value)});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return cfg;
}

std::string ve_config::serialize() const {
  std::string out;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (i) out += '\n';
    out += lines_[i].raw;
  }
  return out;
}

std::optional<std::string> ve_config::get(std::string_view key) const {
  auto it =
      std::find_if(lines_.rbegin(), lines_.rend(), [&](const line& l) { return has_key(l, key); });
  if (it == lines_.rend()) return std::nullopt;
  return it->value;
}

result<void> ve_config::set(std::string_view key, std::string_view value) {
  if (!is_valid_key(key))
    return detail::fail(errc::invalid_argument,
                        "Invalid config key \"{}\": must match [A-Z_][A-Z0-9_]*", detail::excerpt(key));
  if (value.find_first_of("\n\"\\") != std::string_view::npos)
    return detail::fail(errc::invalid_argument,
                        "Invalid value for {}: must not contain a newline, a double quote or a "
                        "backslash",
                        key);

  line changed{fmt::format("{}=\"{}\"", key, value), std::string(key), std::string(value)};
  auto last =
      std::find_if(lines_.rbegin(), lines_.rend(), [&](const line& l) { return has_key(l, key); });
  if (last == lines_.rend()) {
    // Before the empty element that stands for the final newline; a text without one gains
    // it, so the new line ends like every other.
    if (lines_.empty() || !lines_.back().raw.empty()) lines_.emplace_back();
    lines_.insert(lines_.end() - 1, std::move(changed));
    return success();
  }
  auto keep = std::prev(last.base());
  // The same value keeps the line as written, with its quoting and trailing comment.
  if (keep->value != value) *keep = std::move(changed);
  lines_.erase(std::remove_if(lines_.begin(), keep, [&](const line& l) { return has_key(l, key); }),
               keep);
  return success();
}

bool ve_config::erase(std::string_view key) {
  return std::erase_if(lines_, [&](const line& l) { return has_key(l, key); }) > 0;
}

std::vector<std::string> ve_config::keys() const {
  // A key given twice is listed where it last appears, the definition that counts.
  std::vector<std::string> out;
  for (auto it = lines_.rbegin(); it != lines_.rend(); ++it)
    if (!it->key.empty() && std::find(out.begin(), out.end(), it->key) == out.end())
      out.push_back(it->key);
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace ovz::inline v0
