#include "oci/cgroup_path.hpp"

#include "fail.hpp"
#include "model/layout.hpp"

#include <algorithm>

namespace ovz::detail {
namespace {

// systemd's slice nesting: each '-' in a slice's name is a level, "a-b-c.slice" being
// a.slice/a-b.slice/a-b-c.slice; "-.slice" is the root.
result<std::string> slice_path(std::string_view slice) {
  if (slice.empty() || slice == "-.slice") return std::string();
  if (!slice.ends_with(".slice"))
    return fail(errc::bad_config, "linux.cgroupsPath: the slice \"{}\" does not end in .slice",
                excerpt(slice));
  const auto name = slice.substr(0, slice.size() - 6);
  if (name.empty() || name.starts_with('-') || name.ends_with('-') ||
      name.find("--") != std::string_view::npos || name.find('/') != std::string_view::npos)
    return fail(errc::bad_config, "linux.cgroupsPath: \"{}\" is no slice name", excerpt(slice));
  std::string path;
  for (std::size_t dash = name.find('-');; dash = name.find('-', dash + 1)) {
    path += '/';
    path += name.substr(0, dash);
    path += ".slice";
    if (dash == std::string_view::npos) break;
  }
  return path;
}

}  // namespace

result<std::string> oci_cgroup_path(std::string_view given, std::string_view parent) {
  if (given.empty()) return std::string();
  std::string path;
  if (std::count(given.begin(), given.end(), ':') == 2 && !given.starts_with('/')) {
    const auto first = given.find(':'), second = given.find(':', first + 1);
    const auto prefix = given.substr(first + 1, second - first - 1);
    const auto name = given.substr(second + 1);
    if (name.empty())
      return fail(errc::bad_config, "linux.cgroupsPath \"{}\": slice:prefix:name has no name",
                  excerpt(given));
    BOOST_OUTCOME_TRY(slice, slice_path(given.substr(0, first)));
    path = slice + "/" + (prefix.empty() ? std::string(name) : fmt::format("{}-{}", prefix, name));
    if (!name.ends_with(".slice")) path += ".scope";
  } else if (given.starts_with('/')) {
    path = std::string(given);
  } else {
    path = fmt::format("/{}/{}", parent, given);
  }
  // Checked as CTID.conf's value is, so that a bad one is refused at create, not at start.
  BOOST_OUTCOME_TRY(given_cgroup(path, "linux.cgroupsPath"));
  return path;
}

}  // namespace ovz::detail
