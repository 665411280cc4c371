#include "model/hostname.hpp"

#include "fail.hpp"

#include <cctype>

namespace ovz::detail {

result<void> check_hostname(std::string_view name) {
  auto bad = [&](const char* why) {
    return fail(errc::invalid_argument, "Invalid hostname \"{}\": {}", excerpt(name), why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 64) return bad("longer than 64 characters");
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    auto label = name.substr(start, end - start);
    if (label.empty()) return bad("empty label");
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
        return bad("only letters, digits, '-' and '.' are allowed");
    start = end + 1;
  }
  return success();
}

}  // namespace ovz::detail
