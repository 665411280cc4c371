#include "kernel/cgroup_tuning.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>

namespace ovz::detail {

// Making a cgroup2 superblock applies the flags it was given to the one cgroup2 root, mounted
// or not (the kernel's apply_cgroup_root_flags): a flag left out is cleared. So the mount's
// own options go along, and nothing needs to be mounted to change them.
result<bool> favor_cgroup_changes(const std::vector<std::string>& cgroup2_options) {
  if (std::ranges::find(cgroup2_options, "favordynmods") != cgroup2_options.end()) return false;
  unique_fd fs(::fsopen("cgroup2", FSOPEN_CLOEXEC));
  if (!fs) return sys_fail(errno, "favordynmods: fsopen cgroup2");
  std::vector<std::string> flags;
  for (const auto& o : cgroup2_options)
    if (o != "rw" && o != "ro") flags.push_back(o);
  flags.emplace_back("favordynmods");
  for (const auto& f : flags) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, f.c_str(), nullptr, 0) != 0) {
      const int e = errno;
      if (f == "favordynmods" && e == EINVAL) {
        return fail(errc::unsupported,
                    "favordynmods: this kernel's cgroup2 does not know it (Linux 6.0 or later)");
      }
      return sys_fail(e, "favordynmods: the cgroup2 option {} of the host's mount", f);
    }
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return sys_fail(errno, "favordynmods: applying it to the cgroup2 root");
  return true;
}

}  // namespace ovz::detail
