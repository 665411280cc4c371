#include "kernel/cgroup_delegate.hpp"

#include "fail.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace ovz::detail {
namespace {

// cgroup2 lists no controllers (one hierarchy) or "" (the unified hierarchy of a hybrid host).
bool managed_inside(const std::vector<std::string>& controllers) {
  return controllers.empty() || std::any_of(controllers.begin(), controllers.end(),
                                            [](const std::string& c) {
                                              return c.empty() || c == "name=systemd";
                                            });
}

}  // namespace

result<void> delegate_cgroup(const ve_cgroup& cg, uid_t uid, gid_t gid) {
  // cgroup.threads and cgroup.subtree_control exist on cgroup2 only, tasks on v1 only.
  static constexpr const char* files[] = {"cgroup.procs", "cgroup.threads",
                                          "cgroup.subtree_control", "tasks"};
  for (const auto& h : cg.dirs) {
    if (!managed_inside(h.controllers)) continue;
    if (::fchown(h.dir.fd(), uid, gid) != 0)
      return sys_fail(errno, "chown {} to {}:{}", h.dir.path(), uid, gid);
    for (const char* f : files)
      if (::fchownat(h.dir.fd(), f, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT)
        return sys_fail(errno, "chown {} to {}:{}", h.dir.file(f), uid, gid);
  }
  return success();
}

}  // namespace ovz::detail
