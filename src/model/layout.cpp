#include "model/layout.hpp"

#include <ovz/state_root.hpp>

#include <fmt/format.h>

#include <cstdint>

namespace ovz::detail {

std::filesystem::path conf_dir(const std::filesystem::path& state_root) {
  return state_root / "conf";
}

std::string cgroup_parent_of(const std::filesystem::path& state_root) {
  if (state_root == default_state_root) return "ovz";
  std::uint32_t h = 2166136261u;  // FNV-1a: stable across runs and builds
  for (unsigned char c : state_root.string()) h = (h ^ c) * 16777619u;
  return fmt::format("ovz-{:08x}", h);
}

ve_layout layout_of(const std::filesystem::path& state_root, ctid id) {
  const std::string n = id.str();
  const auto private_dir = state_root / "private" / n;
  const auto parent = cgroup_parent_of(state_root);
  return {.id = id,
          .conf = conf_dir(state_root) / (n + ".conf"),
          .private_dir = private_dir,
          .upper = private_dir / "fs",
          .work = private_dir / "work",
          .mount_point = state_root / "root" / n,
          .lock = state_root / "lock" / (n + ".lck"),
          .console_log = state_root / "log" / (n + ".console"),
          .console_log_rotated = state_root / "log" / (n + ".console.1"),  // spawn's output_log
          .net_state = state_root / "run" / (n + ".net"),
          .cgroup_parent = parent,
          .cgroup = parent + "/" + n};
}

}  // namespace ovz::detail
