#include "model/mount_policy.hpp"

#include <linux/mount.h>

#include <cerrno>
#include <string_view>

namespace ovz::detail {
namespace {

// The per-mount flags a VE may ask for, as MOUNT_ATTR_* (mount_setattr's and fsmount's).
struct flag_attr {
  std::uint64_t ms;
  std::uint64_t attr;
};
constexpr flag_attr per_mount[] = {
    {MS_RDONLY, MOUNT_ATTR_RDONLY},       {MS_NOSUID, MOUNT_ATTR_NOSUID},
    {MS_NODEV, MOUNT_ATTR_NODEV},         {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {MS_NOATIME, MOUNT_ATTR_NOATIME},     {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
    {MS_STRICTATIME, MOUNT_ATTR_STRICTATIME},
};
// Accepted and without effect here: the default atime mode, quiet errors, lazytime (a
// superblock option the fsconfig interface spells differently), and MS_REC on a new mount.
constexpr std::uint64_t harmless = MS_RELATIME | MS_SILENT | MS_LAZYTIME | MS_REC;

std::uint64_t attrs_of(std::uint64_t flags) {
  std::uint64_t attrs = 0;
  for (const auto& f : per_mount)
    if (flags & f.ms) attrs |= f.attr;
  return attrs;
}

std::uint64_t known_flags() {
  std::uint64_t all = harmless;
  for (const auto& f : per_mount) all |= f.ms;
  return all;
}

// tmpfs's options that size and own it: its pages and inodes are charged to the VE's memory
// cgroup whatever they say. mpol (NUMA placement) and the rest are refused.
bool tmpfs_option(std::string_view key) {
  for (std::string_view k : {"size", "nr_blocks", "nr_inodes", "mode", "uid", "gid", "huge",
                             "inode32", "inode64"})
    if (key == k) return true;
  return false;
}

mount_plan refused(int error) {
  mount_plan p;
  p.error = error;
  return p;
}

// "size=10M,mode=1777" as fsconfig pairs; false on an option tmpfs is not allowed.
bool parse_options(std::string_view data, std::vector<std::pair<std::string, std::string>>& out) {
  while (!data.empty()) {
    auto comma = data.find(',');
    auto item = data.substr(0, comma);
    data = comma == std::string_view::npos ? std::string_view{} : data.substr(comma + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    auto key = item.substr(0, eq);
    // Flags mount(8) leaves in the data where a caller spelled them there.
    if (eq == std::string_view::npos && (key == "defaults" || key == "rw")) continue;
    if (!tmpfs_option(key)) return false;
    out.emplace_back(std::string(key),
                     eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1)));
  }
  return true;
}

}  // namespace

mount_plan plan_mount(const mount_call& call) {
  std::uint64_t flags = call.flags;
  if ((flags & MS_MGC_MSK) == MS_MGC_VAL) flags &= ~std::uint64_t{MS_MGC_MSK};
  // Binds, moves and propagation changes would reach mounts the VE did not make (its masks
  // over /proc, its read-only /proc/sys): refused outright.
  if (flags & (MS_BIND | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE))
    return refused(EPERM);
  const bool remount = flags & MS_REMOUNT;
  flags &= ~std::uint64_t{MS_REMOUNT};
  if (flags & ~known_flags()) return refused(EPERM);

  mount_plan p;
  p.attr_set = attrs_of(flags);
  if (remount) {
    p.action = mount_action::remount;
    // A remount replaces the mount's flags: what it does not name goes. The atime modes are
    // one field, replaced whole (relatime when none is named).
    for (const auto& f : per_mount)
      if (!(p.attr_set & f.attr)) p.attr_clr |= f.attr;
    p.attr_clr = (p.attr_clr & ~std::uint64_t{MOUNT_ATTR__ATIME}) | MOUNT_ATTR__ATIME;
    if (!parse_options(call.data, p.options)) return refused(EPERM);
    return p;
  }
  if (call.fstype == "tmpfs") {
    p.action = mount_action::new_fs;
    p.fstype = "tmpfs";
    if (!parse_options(call.data, p.options)) return refused(EPERM);
    return p;
  }
  // The rest take no options: /proc's hidepid= and subset= would change the VE's own /proc,
  // which a copy shares.
  if (!call.data.empty() && call.data != "defaults" && call.data != "rw") return refused(EPERM);
  if (call.fstype == "mqueue") {
    p.action = mount_action::new_fs;
    p.fstype = "mqueue";
  } else if (call.fstype == "proc") {
    p.action = mount_action::clone_proc;
    p.recursive = true;
  } else if (call.fstype == "sysfs") {
    p.action = mount_action::clone_sysfs;
    p.recursive = true;
    p.attr_set |= MOUNT_ATTR_RDONLY;
  } else {
    return refused(EPERM);
  }
  return p;
}

bool remountable(own_mount_kind kind) {
  return kind == own_mount_kind::tmpfs || kind == own_mount_kind::mqueue;
}

}  // namespace ovz::detail
