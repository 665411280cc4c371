#include "kernel/proc_locks.hpp"

#include <sys/sysmacros.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace ovz::detail {

// "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF": major and minor in hex, the inode in
// decimal; waiters have "->" after the number.
std::vector<held_lock> held_locks() {
  std::vector<held_lock> out;
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, kind, mode, access, file;
    held_lock h;
    if (!(fields >> id >> kind) || kind == "->") continue;
    if (!(fields >> mode >> access >> h.pid >> file)) continue;
    unsigned maj = 0, min = 0;
    unsigned long long ino = 0;
    if (std::sscanf(file.c_str(), "%x:%x:%llu", &maj, &min, &ino) != 3) continue;
    h.dev = makedev(maj, min);
    h.ino = static_cast<ino_t>(ino);
    out.push_back(h);
  }
  return out;
}

}  // namespace ovz::detail
