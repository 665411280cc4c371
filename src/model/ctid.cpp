#include <algorithm>
#include <charconv>
#include <ovz/ctid.hpp>

#include "fail.hpp"

namespace ovz::inline v0 {

result<ctid> ctid::from_number(std::uint64_t value) {
  if (value == 0 || value > max)
    return detail::fail(errc::invalid_argument, "Invalid CTID {}: must be a number from 1 to {}",
                        value, max);
  return ctid(static_cast<std::uint32_t>(value));
}

result<ctid> ctid::parse(std::string_view text) {
  auto refuse = [&] {
    return detail::fail(errc::invalid_argument,
                        "Invalid CTID \"{}\": must be a number from 1 to {}", detail::excerpt(text), max);
  };
  // Only plain digits: from_chars alone would accept what follows a number, and a leading
  // zero would let "0101" and "101" name the same VE.
  bool digits = !text.empty() &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (text.size() > 1 && text.front() == '0') || text.size() > 10) return refuse();
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value == 0 || value > max) return refuse();
  return ctid(static_cast<std::uint32_t>(value));
}

}  // namespace ovz::inline v0
