#include <algorithm>
#include <charconv>
#include <optional>
#include <ovz/beancounter.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "fail.hpp"
#include "model/text.hpp"
#include "model/ubc_table.hpp"

namespace ovz::inline v0 {
namespace {

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// One side of "B:L" in the resource's units, or why it is not a value.
struct parsed_number {
  std::uint64_t value = 0;
  std::string problem{};
};

parsed_number parse_number(ubc_resource r, std::string_view text) {
  if (text == "unlimited") return {.value = ubc_unlimited};
  if (text.empty()) return {.problem = "missing number"};
  if (text.front() == '-') return {.problem = "negative values are not allowed"};
  if (!is_digit(text.front())) return {.problem = "not a number"};

  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  auto too_large = [] {
    return parsed_number{.problem = fmt::format("too large (the most is {})", ubc_unlimited)};
  };
  if (ec == std::errc::result_out_of_range) return too_large();
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));

  if (!suffix.empty()) {
    if (suffix.size() > 1) return {.problem = fmt::format("unknown suffix '{}'", suffix)};
    if (to_upper(suffix.front()) == 'P') {
      if (!counts_pages(r))
        return {.problem = "suffix 'P' (pages) applies only to the *pages resources"};
    } else if (auto mul = detail::binary_multiple(suffix.front())) {
      if (n > ~std::uint64_t{0} / *mul) return too_large();
      n *= *mul;
      // A size in bytes becomes whole pages, rounded up so the limit never shrinks below it.
      if (counts_pages(r)) n = n / detail::ubc_page_size + (n % detail::ubc_page_size != 0);
    } else {
      return {.problem = fmt::format("unknown suffix '{}'", suffix)};
    }
  }
  if (n > ubc_unlimited) return too_large();
  return {.value = n};
}

}  // namespace

const std::vector<ubc_resource>& all_ubc_resources() {
  static const std::vector<ubc_resource> all = [] {
    std::vector<ubc_resource> v;
    for (const auto& row : detail::ubc_rows) v.push_back(row.resource);
    return v;
  }();
  return all;
}

const char* to_string(ubc_resource r) noexcept {
  auto i = static_cast<std::size_t>(r);
  return i < detail::ubc_rows.size() ? detail::ubc_rows[i].name : "unknown";
}

result<ubc_resource> parse_ubc_resource(std::string_view name) {
  for (const auto& row : detail::ubc_rows) {
    std::string_view known = row.name;
    if (std::equal(name.begin(), name.end(), known.begin(), known.end(),
                   [](char a, char b) { return to_lower(a) == b; }))
      return row.resource;
  }
  return detail::fail(errc::invalid_argument, "Unknown beancounter \"{}\"", detail::excerpt(name));
}

std::string conf_key(ubc_resource r) {
  std::string key = to_string(r);
  std::transform(key.begin(), key.end(), key.begin(), to_upper);
  return key;
}

bool counts_pages(ubc_resource r) noexcept {
  return static_cast<std::size_t>(r) < detail::ubc_rows.size() &&
         detail::row_of(r).unit == detail::ubc_unit::pages;
}

result<ubc_value> parse_ubc_value(ubc_resource r, std::string_view text) {
  auto refuse = [&](std::string_view why) {
    return detail::fail(errc::invalid_argument, "Invalid value \"{}\" for {}: {}", detail::excerpt(text),
                        to_string(r), why);
  };
  auto colon = text.find(':');
  std::string_view barrier_text = text.substr(0, colon);
  std::string_view limit_text =
      colon == std::string_view::npos ? barrier_text : text.substr(colon + 1);
  if (limit_text.find(':') != std::string_view::npos) return refuse("expected B or B:L");

  auto barrier = parse_number(r, barrier_text);
  if (!barrier.problem.empty()) return refuse(barrier.problem);
  auto limit = parse_number(r, limit_text);
  if (!limit.problem.empty()) return refuse(limit.problem);
  if (limit.value < barrier.value)
    return refuse(fmt::format("limit {} is below barrier {}", limit.value, barrier.value));
  return ubc_value{.barrier = barrier.value, .limit = limit.value};
}

std::string format_ubc_value(const ubc_value& v) {
  auto side = [](std::uint64_t n) {
    return n == ubc_unlimited ? std::string("unlimited") : std::to_string(n);
  };
  return side(v.barrier) + ":" + side(v.limit);
}

}  // namespace ovz::inline v0
