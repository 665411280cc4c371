#include "ve/devices.hpp"

#include "fail.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace ovz::detail {

result<std::vector<host_devnode>> resolve_devnodes(const std::vector<devnode_grant>& grants) {
  std::vector<host_devnode> out;
  for (const auto& g : grants) {
    if (g.access == device_access::none) continue;
    const std::string path = "/dev/" + g.name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
      return sys_fail(errno, "DEVNODES: {} on the host", path);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
      return fail(errc::invalid_argument, "DEVNODES: {} is not a device node", path);
    device_rule rule;
    rule.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
    rule.major = major(st.st_rdev);
    rule.minor = static_cast<int>(minor(st.st_rdev));
    // mknod too: the start makes the node in the VE's /dev after the rules are in place.
    rule.access = device_rule::mknod | (g.access == device_access::read || g.access == device_access::read_write
                       ? device_rule::read : 0u) |
                  (g.access == device_access::write || g.access == device_access::read_write
                       ? device_rule::write : 0u);
    out.push_back({g.name, rule, static_cast<unsigned>(st.st_mode) & (S_IFMT | 07777)});
  }
  return out;
}

std::vector<device_rule> ve_device_rules(const std::vector<host_devnode>& granted) {
  std::vector<device_rule> rules = {
      {'c', 1, 3}, {'c', 1, 5}, {'c', 1, 7}, {'c', 1, 8}, {'c', 1, 9},
      {'c', 5, 0}, {'c', 5, 2}, {'c', 136, -1},
  };
  for (const auto& n : granted) rules.push_back(n.rule);
  return rules;
}

void add_node_steps(std::vector<fs_step>& steps, const std::string& target,
                    const std::string& host_path, unsigned mode, unsigned long dev, bool userns) {
  fs_step node;
  node.what = fs_step::kind::mknod;
  node.target = target;
  if (!userns) {
    node.mode = mode;
    node.dev = dev;
    steps.push_back(std::move(node));
    return;
  }
  node.mode = S_IFREG | (mode & 07777);
  fs_step bind;
  bind.what = fs_step::kind::bind;
  bind.source = host_path;
  bind.target = target;
  bind.flags = MS_REC;
  steps.push_back(std::move(node));
  steps.push_back(std::move(bind));
}

std::vector<fs_step> devnode_steps(const std::string& dev_dir,
                                   const std::vector<host_devnode>& granted, bool userns) {
  std::vector<fs_step> steps;
  for (const auto& n : granted) {
    // "net/tun" needs /dev/net first; a directory made for an earlier node is fine.
    for (auto slash = n.name.find('/'); slash != std::string::npos;
         slash = n.name.find('/', slash + 1)) {
      fs_step dir;
      dir.what = fs_step::kind::mkdir;
      dir.target = dev_dir + "/" + n.name.substr(0, slash);
      dir.mode = 0755;
      steps.push_back(dir);
    }
    add_node_steps(steps, dev_dir + "/" + n.name, "/dev/" + n.name, n.mode,
                   makedev(n.rule.major, static_cast<unsigned>(n.rule.minor)), userns);
  }
  return steps;
}

}  // namespace ovz::detail
