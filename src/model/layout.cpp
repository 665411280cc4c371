#include "model/layout.hpp"

#include "fail.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ovz::detail {

std::filesystem::path conf_dir(const std::filesystem::path& state_root) {
  return state_root / "conf";
}

std::string cgroup_parent_of(const root_identity& root) {
  if (root.installation) return "ovz";
  return fmt::format("ovz-{:x}-{:x}", root.dev, root.ino);
}

result<std::string> given_cgroup(std::string_view value, std::string_view what) {
  auto refuse = [&](std::string_view why) {
    return fail(errc::bad_config, "{} \"{}\": {}", what, excerpt(value), why);
  };
  if (!value.starts_with('/')) return refuse("a cgroup path begins with / (its hierarchy's root)");
  if (value.size() > 1 && value.ends_with('/')) value.remove_suffix(1);
  if (value == "/") return refuse("the hierarchy's root holds the host's own processes");
  std::string path;
  for (std::size_t at = 1; at <= value.size();) {
    auto end = std::min(value.find('/', at), value.size());
    const auto name = value.substr(at, end - at);
    if (name.empty() || name == "." || name == "..")
      return refuse("each name in it is a directory below the last: no empty name, . or ..");
    if (std::any_of(name.begin(), name.end(), [](char c) { return (c >= 0 && c < 0x20) || c == 0x7f; }))
      return refuse("a name in it has a control character");
    if (!path.empty()) path += '/';
    path += name;
    at = end + 1;
  }
  return path;
}

ve_paths layout_of(const std::filesystem::path& state_root, ctid id) {
  const std::string n = id.str();
  const auto private_dir = state_root / "private" / n;
  return {.id = id,
          .conf = conf_dir(state_root) / (n + ".conf"),
          .private_dir = private_dir,
          .upper = private_dir / "fs",
          .work = private_dir / "work",
          .disk_image = private_dir / "disk.img",
          .disk_stage = private_dir / "disk",
          .mount_point = state_root / "root" / n,
          .lock = state_root / "lock" / (n + ".lck"),
          .console_log = state_root / "log" / (n + ".console"),
          .console_log_rotated = state_root / "log" / (n + ".console.1"),
          .net_state = state_root / "run" / (n + ".net"),
          .console_socket = state_root / "run" / (n + ".console"),
          .broker_socket = state_root / "run" / (n + ".broker"),
          .proc_views = state_root / "run" / (n + ".proc"),
          .suspend_mark = state_root / "run" / (n + ".suspended"),
          .dump = state_root / "dump" / n,
          .pre_dumps = state_root / "dump" / (n + ".pre")};
}

ve_layout layout_of(const std::filesystem::path& state_root, ctid id, const root_identity& root) {
  ve_layout l{layout_of(state_root, id), cgroup_parent_of(root), {}};
  l.cgroup = l.cgroup_parent + "/" + id.str();
  return l;
}

}  // namespace ovz::detail
