#pragma once
// Which mount(2) calls of a privileged VE's root the host carries out for it. The VE has no
// CAP_SYS_ADMIN in the host's user namespace; its monitor answers these calls (seccomp user
// notification) and does what this policy allows in the VE's mount namespace: new tmpfs and
// mqueue instances, copies of the VE's own /proc and read-only /sys, and changes to mounts it
// made so. Everything else is refused. Pure: no system call.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ovz::detail {

/// mount(2)'s arguments, read from the caller's memory.
struct mount_call {
  std::string source;
  std::string target;
  std::string fstype;
  std::uint64_t flags = 0;  // MS_*
  std::string data;
};

enum class mount_action {
  refuse,
  new_fs,       // a new instance of `fstype` (tmpfs, mqueue) with `options`
  clone_proc,   // a copy of the VE's /proc with its masks and read-only parts
  clone_sysfs,  // a copy of the VE's /sys, read-only
  remount,      // new options and mount flags for a tmpfs the VE mounted through us
};

/// What to do for one mount(2) call.
struct mount_plan {
  mount_action action = mount_action::refuse;
  int error = 0;  // refuse: the errno the caller gets
  std::string fstype;
  std::vector<std::pair<std::string, std::string>> options;  // fsconfig keys and values
  std::uint64_t attr_set = 0;  // MOUNT_ATTR_* for the mount
  std::uint64_t attr_clr = 0;  // remount: the MOUNT_ATTR_* it takes away
  bool recursive = false;      // clone: applies to every mount of the copy
};

mount_plan plan_mount(const mount_call& call);

/// The kinds of mounts a VE made through its monitor, which it may change and unmount.
enum class own_mount_kind { tmpfs, mqueue, proc, sysfs };

/// Whether a remount may touch a mount of this kind (a copy of /proc or /sys must keep the
/// read-only parts it was made with).
bool remountable(own_mount_kind kind);

}  // namespace ovz::detail
