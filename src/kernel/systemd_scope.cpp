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

std::optional<scope_place> named_scope(std::string_view path) {
  const auto slash = path.rfind('/');
  const auto unit = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (!unit.ends_with(".scope") || unit.size() == std::string_view(".scope").size())
    return std::nullopt;
  const auto parents = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  const auto last = parents.substr(parents.rfind('/') + 1);
  scope_place place{std::string(unit), parents.empty() ? "-.slice" : std::string(last)};
  // Only where systemd would put that scope: each slice in the one its name nests it in.
  if (!place.slice.ends_with(".slice") || unit_cgroup("", place.slice, place.unit) != path)
    return std::nullopt;
  return place;
}

scope_place scope_of(std::string_view path) {
  if (auto named = named_scope(path)) return std::move(*named);
  return {scope_unit(path), std::string(ve_slice)};
}

}  // namespace ovz::detail
