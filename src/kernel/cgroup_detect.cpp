#include "fail.hpp"
#include "kernel/cgroup_manager.hpp"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <mutex>

namespace ovz::detail {

result<cgroup_manager*> host_cgroups() {
  static std::once_flag once;
  static std::unique_ptr<cgroup_manager> manager;
  static int detect_errno = 0;
  std::call_once(once, [] {
    struct statfs st {};
    if (::statfs("/sys/fs/cgroup", &st) != 0) {
      detect_errno = errno;
      return;
    }
    if (st.f_type == CGROUP2_SUPER_MAGIC)
      manager = make_cgroupfs_v2("/sys/fs/cgroup");
    else
      manager = make_cgroupfs_v1();
  });
  if (!manager)
    return sys_fail(detect_errno, "statfs /sys/fs/cgroup (is cgroupfs mounted?)");
  return manager.get();
}

}  // namespace ovz::detail
