#include "kernel/cgroup_mounts.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ovz::detail {
namespace {

constexpr const char* controllers_used[] = {"cpu",     "cpuacct", "cpuset",  "memory",
                                            "pids",    "freezer", "devices", "blkio"};
// The named v1 hierarchy a systemd keeps its processes' cgroups in on a legacy or hybrid host.
constexpr std::string_view systemd_name = "name=systemd";

bool under_cgroup_root(const std::string& mount_point) {
  return mount_point == "/sys/fs/cgroup" || mount_point.starts_with("/sys/fs/cgroup/");
}

}  // namespace

std::vector<cgroup_mount> host_cgroup_mounts() {
  std::vector<cgroup_mount> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, devno, root, mount_point, fstype, source, options;
    pre >> id >> parent >> devno >> root >> mount_point;
    post >> fstype >> source >> options;
    if ((fstype != "cgroup" && fstype != "cgroup2") || !under_cgroup_root(mount_point)) continue;
    cgroup_mount m{mount_point, fstype == "cgroup2", {}};
    std::istringstream opts(options);
    for (std::string o; std::getline(opts, o, ',');) m.options.push_back(o);
    found.push_back(std::move(m));
  }
  return found;
}

std::vector<cgroup_hierarchy> ve_cgroup_hierarchies() {
  std::vector<cgroup_hierarchy> found;
  for (const auto& m : host_cgroup_mounts()) {
    cgroup_hierarchy h{m.mount_point, {}, m.v2, false};
    for (const auto& o : m.options) {
      if (h.v2) {
        h.nsdelegate = h.nsdelegate || o == "nsdelegate";
      } else if (o == systemd_name || std::find(std::begin(controllers_used),
                                                std::end(controllers_used),
                                                o) != std::end(controllers_used)) {
        h.controllers.push_back(o);
      }
    }
    if (h.v2) h.controllers = {""};
    if (h.controllers.empty()) continue;
    bool seen = std::any_of(found.begin(), found.end(),
                            [&](const cgroup_hierarchy& f) { return f.controllers == h.controllers; });
    if (!seen) found.push_back(std::move(h));
  }
  return found;
}

}  // namespace ovz::detail
