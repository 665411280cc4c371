#include "model/file_name.hpp"

#include "fail.hpp"

#include <algorithm>

namespace ovz::detail {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

result<void> check_file_name(std::string_view name, std::string_view what) {
  if (name.empty() || name.size() > 64 || name.front() == '.' ||
      !std::all_of(name.begin(), name.end(), name_char)) {
    return fail(errc::invalid_argument,
                "bad {} '{}': use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', not "
                "starting with '.'",
                what, name);
  }
  return success();
}

}  // namespace ovz::detail
