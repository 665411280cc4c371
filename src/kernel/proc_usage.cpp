#include "kernel/proc_usage.hpp"

#include "kernel/files.hpp"
#include "kernel/proc_locks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace ovz::detail {
namespace {

// The VE's own network namespace counts its sockets: "sockets: used N" and "TCP: inuse N"
// in sockstat, "TCP6: inuse N" in sockstat6. (The per-process TCP tables would say more, but
// reading them walks the whole hash table: milliseconds per VE.)
std::uint64_t sockstat(pid_t init, const char* file, std::string_view key, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(init) + "/net/" + file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string word;
    if (!(words >> word) || word != key) continue;
    while (words >> word) {
      std::uint64_t n = 0;
      if (word == field && words >> n) return n;
    }
  }
  return 0;
}

void count_fds(pid_t pid, proc_usage& u) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!dir) return;
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++u.files;
  ::closedir(dir);
}

void count_memory(pid_t pid, proc_usage& u) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  std::uint64_t kib = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (!(fields >> key >> kib)) continue;
    if (key == "VmLck:") u.locked_bytes += kib * 1024;
    if (key == "VmData:" || key == "VmStk:") u.privvm_bytes += kib * 1024;
  }
}

std::uint64_t count_ptys(pid_t init) {
  std::uint64_t n = 0;
  // Resolved in the VE's root: a /dev/pts symlink it planted must not count the host's.
  auto root = open_root_of(init);
  if (!root) return 0;
  auto pts = open_below(root->get(), "dev/pts", O_RDONLY | O_DIRECTORY, RESOLVE_IN_ROOT);
  DIR* dir = pts ? ::fdopendir(pts->get()) : nullptr;
  if (!dir) return 0;
  (void)pts->release();  // closedir closes it
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') ++n;
  ::closedir(dir);
  return n;
}

std::uint64_t count_flocks(const std::vector<pid_t>& pids) {
  std::uint64_t n = 0;
  for (const auto& h : held_locks())
    if (std::find(pids.begin(), pids.end(), h.pid) != pids.end()) ++n;
  return n;
}

}  // namespace

proc_usage measure_processes(const std::vector<pid_t>& pids, pid_t init) {
  proc_usage u;
  if (pids.empty()) return u;
  for (pid_t pid : pids) {
    count_fds(pid, u);
    count_memory(pid, u);
  }
  u.tcp_sockets = sockstat(init, "sockstat", "TCP:", "inuse") +
                  sockstat(init, "sockstat6", "TCP6:", "inuse");
  const std::uint64_t all = sockstat(init, "sockstat", "sockets:", "used");
  u.other_sockets = all > u.tcp_sockets ? all - u.tcp_sockets : 0;
  u.ptys = count_ptys(init);
  u.flocks = count_flocks(pids);
  return u;
}

}  // namespace ovz::detail
