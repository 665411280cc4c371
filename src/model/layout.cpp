#include "model/layout.hpp"

#include <fmt/format.h>

namespace ovz::detail {

std::filesystem::path conf_dir(const std::filesystem::path& state_root) {
  return state_root / "conf";
}

std::string cgroup_parent_of(const root_identity& root) {
  if (root.installation) return "ovz";
  return fmt::format("ovz-{:x}-{:x}", root.dev, root.ino);
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
