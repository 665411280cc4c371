// No system call here (tests/unit/test_plan.cpp).
#include "ve/cgroup_view.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/mount.h>

namespace ovz::detail {
namespace {

constexpr unsigned long no_suid_dev_exec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

fs_step step(fs_step::kind what, std::string target) {
  fs_step s;
  s.what = what;
  s.target = std::move(target);
  return s;
}

fs_step mount_step(std::string fstype, std::string target, unsigned long flags,
                   std::string data = {}) {
  fs_step s = step(fs_step::kind::mount, std::move(target));
  s.source = fstype;
  s.fstype = std::move(fstype);
  s.flags = flags;
  s.data = std::move(data);
  return s;
}

// A hierarchy's own mount: cgroup2, a named v1 hierarchy ("none,name=systemd") or v1
// controllers ("cpu,cpuacct"), rooted at the VE's cgroup by the VE's cgroup namespace.
fs_step hierarchy_mount(const cgroup_hierarchy& h, std::string target, bool writable) {
  const unsigned long flags = no_suid_dev_exec | (writable ? 0 : MS_RDONLY);
  if (h.v2) return mount_step("cgroup2", std::move(target), flags);
  const bool named = h.controllers.size() == 1 && h.controllers.front().starts_with("name=");
  return mount_step("cgroup", std::move(target), flags,
                    (named ? "none," : "") + fmt::format("{}", fmt::join(h.controllers, ",")));
}

}  // namespace

std::vector<fs_step> cgroup_view_steps(const std::filesystem::path& root,
                                       const std::vector<cgroup_hierarchy>& hierarchies,
                                       bool userns) {
  const std::string top = root.string() + "/sys/fs/cgroup";
  std::vector<fs_step> steps;
  if (hierarchies.size() == 1 && hierarchies.front().v2 &&
      hierarchies.front().mount_point == "/sys/fs/cgroup") {
    steps.push_back(hierarchy_mount(hierarchies.front(), top,
                                    userns || hierarchies.front().nsdelegate));
    return steps;
  }
  if (hierarchies.empty()) return steps;
  steps.push_back(mount_step("tmpfs", top, no_suid_dev_exec, "mode=755,size=64k"));
  for (const auto& h : hierarchies) {
    const std::string name = std::filesystem::path(h.mount_point).filename().string();
    fs_step dir = step(fs_step::kind::mkdir, top + "/" + name);
    dir.mode = 0755;
    steps.push_back(dir);
    const bool managed_inside = h.v2 || h.controllers.front().starts_with("name=");
    steps.push_back(hierarchy_mount(h, top + "/" + name, managed_inside));
    // Co-mounted controllers ("cpu,cpuacct") are found by each name, as on the host.
    for (const auto& c : h.controllers) {
      if (c.empty() || c == name || c.starts_with("name=")) continue;
      fs_step link = step(fs_step::kind::symlink, top + "/" + c);
      link.source = name;
      steps.push_back(link);
    }
  }
  fs_step ro = step(fs_step::kind::remount_ro, top);
  ro.flags = no_suid_dev_exec;
  steps.push_back(ro);
  return steps;
}

}  // namespace ovz::detail
