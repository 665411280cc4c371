#include "kernel/limits_mark.hpp"

#include "fail.hpp"
#include "kernel/caps.hpp"

#include <linux/capability.h>
#include <sys/random.h>
#include <sys/xattr.h>

#include <cerrno>

namespace ovz::detail {
namespace {

// On the first hierarchy's directory of the cgroup: every opening of a VE's cgroup lists its
// hierarchies in the host's order, the writer's and the reader's alike.
constexpr const char* mark_name = "trusted.ovz.limits";

}  // namespace

result<void> mark_limits_written(const ve_cgroup& cg) {
  const cgroup_dir& dir = cg.dirs.front().dir;
  std::uint64_t mark = 0;  // 0 is "none yet"
  while (mark == 0)
    if (::getrandom(&mark, sizeof mark, 0) < 0 && errno != EINTR) return sys_fail(errno, "getrandom");
  if (::fsetxattr(dir.fd(), mark_name, &mark, sizeof mark, 0) != 0 && errno != EOPNOTSUPP)
    return sys_fail(errno, "set {} on {}", mark_name, dir.path());
  return success();
}

result<void> write_limits(cgroup_resources& resources, const ve_cgroup& cg,
                          const cgroup_limits& limits) {
  auto written = resources.apply(cg, limits);
  auto marked = mark_limits_written(cg);
  if (!written) return written;
  return marked;
}

std::optional<std::uint64_t> limits_mark(const ve_cgroup& cg) {
  std::uint64_t mark = 0;
  const auto n = ::fgetxattr(cg.dirs.front().dir.fd(), mark_name, &mark, sizeof mark);
  if (n == sizeof mark) return mark;
  // Without CAP_SYS_ADMIN trusted.* reads as missing whether it is there or not.
  if (n < 0 && errno == ENODATA && has_effective_capability(CAP_SYS_ADMIN)) return 0;
  return std::nullopt;
}

}  // namespace ovz::detail
