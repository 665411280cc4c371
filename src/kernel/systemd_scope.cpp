#include "kernel/systemd_scope.hpp"

#include <fmt/format.h>

namespace ovz::detail {

std::string scope_unit(std::string_view path) {
  std::string unit = "ovz-";
  for (unsigned char c : path) {
    if (c == '/')
      unit += '-';
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == ':' || c == '.')
      unit += static_cast<char>(c);
    else
      unit += fmt::format("\\x{:02x}", c);
  }
  return unit + ".scope";
}

std::string scope_description(std::string_view path) {
  const auto slash = path.rfind('/');
  const auto id = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return fmt::format("libovz VE {} (cgroup {})", id, path);
}

std::string unit_cgroup(std::string_view manager_cgroup, std::string_view slice,
                        std::string_view unit) {
  std::string cg(manager_cgroup);
  auto add = [&](std::string_view level) {
    if (!cg.empty()) cg += '/';
    cg += level;
  };
  // "a-b-c.slice" is in "a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root.
  const auto name = slice.substr(0, slice.size() - std::string_view(".slice").size());
  if (name != "-")
    for (std::size_t dash = name.find('-');; dash = name.find('-', dash + 1)) {
      add(std::string(name.substr(0, dash)) + ".slice");
      if (dash == std::string_view::npos) break;
    }
  add(unit);
  return cg;
}

}  // namespace ovz::detail
