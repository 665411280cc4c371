#include "kernel/sysctl_floor.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace ovz::detail {

result<bool> raise_sysctl(std::string_view name, std::uint64_t floor) {
  std::string relative(name);
  std::ranges::replace(relative, '.', '/');
  const std::string path = "/proc/sys/" + relative;
  BOOST_OUTCOME_TRY(text, read_file(path));
  std::uint64_t now = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), now);
  if (ec != std::errc())
    return fail(errc::bad_config, "{}: {} holds no number: {}", name, path, text);
  if (now >= floor) return false;
  BOOST_OUTCOME_TRY(write_file(path, std::to_string(floor)));
  return true;
}

}  // namespace ovz::detail
