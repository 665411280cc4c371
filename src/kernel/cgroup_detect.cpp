#include "fail.hpp"
#include "kernel/cgroup.hpp"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <mutex>

namespace ovz::detail {

result<cgroup_backend*> host_cgroups() {
  static std::once_flag once;
  static std::unique_ptr<cgroup_backend> backend;
  static int detect_errno = 0;
  std::call_once(once, [] {
    struct statfs st {};
    if (::statfs("/sys/fs/cgroup", &st) != 0) {
      detect_errno = errno;
      return;
    }
    if (st.f_type == CGROUP2_SUPER_MAGIC)
      backend = make_cgroup_v2("/sys/fs/cgroup");
    else
      backend = make_cgroup_v1();
  });
  if (!backend)
    return sys_fail(detect_errno, "statfs /sys/fs/cgroup (is cgroupfs mounted?)");
  return backend.get();
}

}  // namespace ovz::detail
