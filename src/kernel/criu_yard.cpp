#include "kernel/criu_yard.hpp"

#include "fail.hpp"
#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_mounts.hpp"
#include "kernel/files.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {
namespace {

// A hierarchy as /proc/self/cgroup names it: its controllers ("cpu,cpuacct"), a name
// ("name=systemd"), or nothing for cgroup2.
struct listed_hierarchy {
  std::vector<std::string> controllers;  // empty: cgroup2
  // The directory CRIU opens in its yard: the controllers without "name=", "unified" for
  // cgroup2 (criu/cgroup.c, ctrl_dir_and_opt and collect_cgroups).
  std::string yard_name() const {
    if (controllers.empty()) return "unified";
    std::string out;
    for (const auto& c : controllers) {
      if (!out.empty()) out += ',';
      out += c.starts_with("name=") ? c.substr(5) : c;
    }
    return out;
  }
};

result<std::vector<listed_hierarchy>> listed_hierarchies() {
  BOOST_OUTCOME_TRY(text, read_file("/proc/self/cgroup"));
  std::vector<listed_hierarchy> out;
  for (const auto& m : memberships_of(text))
    out.push_back({std::vector<std::string>(m.controllers.begin(), m.controllers.end())});
  return out;
}

// The host's mount of `h`: cgroup2 for cgroup2, else the v1 mount whose options hold all of
// its controllers.
const cgroup_mount* host_mount_of(const std::vector<cgroup_mount>& mounts,
                                  const listed_hierarchy& h) {
  for (const auto& m : mounts) {
    if (m.v2 != h.controllers.empty()) continue;
    const bool all = std::ranges::all_of(h.controllers, [&](const std::string& c) {
      return std::ranges::find(m.options, c) != m.options.end();
    });
    if (all) return &m;
  }
  return nullptr;
}

}  // namespace

result<criu_yard> criu_yard::make() {
  BOOST_OUTCOME_TRY(listed, listed_hierarchies());
  const auto mounts = host_cgroup_mounts();
  char dir[] = "/tmp/ovz-criu-yard.XXXXXX";
  if (!::mkdtemp(dir)) return sys_fail(errno, "mkdtemp {}", dir);
  criu_yard y;
  y.dir_ = dir;
  // Private at once: the hierarchies bound below go nowhere else.
  if (::mount("ovz-criu-yard", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=700,size=64k") != 0)
    return sys_fail(errno, "mount a tmpfs on {}", dir);
  if (::mount(nullptr, dir, nullptr, MS_PRIVATE, nullptr) != 0)
    return sys_fail(errno, "make {} private", dir);
  for (const auto& h : listed) {
    const auto at = y.dir_ / h.yard_name();
    if (::mkdir(at.c_str(), 0700) != 0) return sys_fail(errno, "mkdir {}", at.string());
    if (const auto* m = host_mount_of(mounts, h)) {
      if (::mount(m->mount_point.c_str(), at.c_str(), nullptr, MS_BIND, nullptr) != 0)
        return sys_fail(errno, "bind {} on {}", m->mount_point, at.string());
      continue;
    }
    // Not mounted here: nothing of the host's to change.
    std::string data = h.controllers.size() == 1 && h.controllers[0].starts_with("name=")
                           ? "none" : "";
    for (const auto& c : h.controllers) data += (data.empty() ? "" : ",") + c;
    if (::mount("cgroup", at.c_str(), h.controllers.empty() ? "cgroup2" : "cgroup", 0,
                data.c_str()) != 0)
      return sys_fail(errno, "mount the cgroup hierarchy '{}' on {}", data, at.string());
  }
  return y;
}

criu_yard::~criu_yard() {
  if (dir_.empty()) return;
  // The tmpfs and everything bound in it, at once.
  ::umount2(dir_.c_str(), MNT_DETACH);
  ::rmdir(dir_.c_str());
}

}  // namespace ovz::detail
