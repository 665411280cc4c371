#include "kernel/proc_creds.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace ovz::detail {

bool proc_creds::in_group(gid_t gid) const {
  return gid == egid || std::find(groups.begin(), groups.end(), gid) != groups.end();
}

std::optional<proc_creds> read_proc_creds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  proc_creds c;
  bool uid = false, gid = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    // "Uid:" and "Gid:" list the real, effective, saved and filesystem ids.
    if (key == "Uid:") {
      uid_t real = 0;
      uid = static_cast<bool>(fields >> real >> c.euid);
    } else if (key == "Gid:") {
      gid_t real = 0;
      gid = static_cast<bool>(fields >> real >> c.egid);
    } else if (key == "Groups:") {
      for (gid_t g = 0; fields >> g;) c.groups.push_back(g);
    }
  }
  if (!uid || !gid) return std::nullopt;
  return c;
}

}  // namespace ovz::detail
