#include "support/temp_root.hpp"

#include "model/layout.hpp"
#include "ve/locate.hpp"

#include <fstream>

namespace ovz::test {

std::vector<std::filesystem::path> cgroup_parents(const temp_root& root) {
  std::vector<std::filesystem::path> found;
  auto identity = detail::identify_state_root(root.path());
  if (!identity) return found;
  const auto parent = detail::cgroup_parent_of(*identity);
  std::error_code ec;
  // v2 puts it directly under /sys/fs/cgroup, v1 under each controller's directory.
  if (std::filesystem::exists("/sys/fs/cgroup/" + parent + "/cgroup.procs", ec))
    found.push_back("/sys/fs/cgroup/" + parent);
  for (std::filesystem::directory_iterator it("/sys/fs/cgroup", ec), end; !ec && it != end;
       it.increment(ec)) {
    auto dir = it->path() / parent;
    if (std::filesystem::exists(dir, ec)) found.push_back(dir);
  }
  return found;
}

std::vector<std::string> leftovers(const temp_root& root) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& dir : cgroup_parents(root)) {
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory(ec)) found.push_back("cgroup " + it->path().string());
  }
  std::ifstream mounts("/proc/self/mountinfo");
  for (std::string line; std::getline(mounts, line);)
    if (line.find(root.path().string()) != std::string::npos) found.push_back("mount " + line);
  return found;
}

// A zombie counts as gone: it holds no resources, and its reaper (the host's init) may
// simply not have got to it yet.
bool pid_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (pid <= 0 || !std::getline(stat, line)) return false;
  auto paren = line.rfind(')');
  return paren == std::string::npos || line.compare(paren + 2, 1, "Z") != 0;
}

}  // namespace ovz::test
