#include "kernel/proc_usage.hpp"

#include <ovz/fd.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>

namespace ovz::detail {
namespace {

constexpr std::uint64_t kib_per_page = 4;

// Inodes of the TCP sockets of the network namespace `init` lives in.
std::unordered_set<std::uint64_t> tcp_inodes(pid_t init) {
  std::unordered_set<std::uint64_t> inodes;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in("/proc/" + std::to_string(init) + "/net/" + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string f;
      for (int i = 0; i < 10 && fields >> f; ++i) {
      }
      std::uint64_t ino = 0;
      std::from_chars(f.data(), f.data() + f.size(), ino);
      if (ino) inodes.insert(ino);
    }
  }
  return inodes;
}

void count_fds(pid_t pid, const std::unordered_set<std::uint64_t>& tcp, proc_usage& u) {
  unique_fd dirfd(::open(("/proc/" + std::to_string(pid) + "/fd").c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return;
  DIR* dir = ::fdopendir(dirfd.get());
  if (!dir) return;
  dirfd.release();
  char target[64];
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    ++u.files;
    ssize_t n = ::readlinkat(::dirfd(dir), e->d_name, target, sizeof target - 1);
    std::string_view link(target, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (link.rfind("socket:[", 0) != 0) continue;
    std::uint64_t ino = 0;
    std::from_chars(link.data() + 8, link.data() + link.size(), ino);
    ++(tcp.count(ino) ? u.tcp_sockets : u.other_sockets);
  }
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
    if (key == "VmLck:") u.locked_pages += kib / kib_per_page;
    if (key == "VmData:" || key == "VmStk:") u.privvm_pages += kib / kib_per_page;
  }
}

std::uint64_t count_ptys(pid_t init) {
  std::uint64_t n = 0;
  std::error_code ec;
  DIR* dir = ::opendir(("/proc/" + std::to_string(init) + "/root/dev/pts").c_str());
  if (!dir) return 0;
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') ++n;
  ::closedir(dir);
  return n;
}

// /proc/locks lists holders by host PID: "1: POSIX  ADVISORY  WRITE 1234 …"; waiters have
// "->" after the number.
std::uint64_t count_flocks(const std::vector<pid_t>& pids) {
  std::ifstream in("/proc/locks");
  std::uint64_t n = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, kind, mode, access;
    pid_t pid = 0;
    if (!(fields >> id >> kind) || kind == "->") continue;
    if (!(fields >> mode >> access >> pid)) continue;
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) ++n;
  }
  return n;
}

}  // namespace

proc_usage measure_processes(const std::vector<pid_t>& pids, pid_t init) {
  proc_usage u;
  if (pids.empty()) return u;
  auto tcp = tcp_inodes(init);
  for (pid_t pid : pids) {
    count_fds(pid, tcp, u);
    count_memory(pid, u);
  }
  u.ptys = count_ptys(init);
  u.flocks = count_flocks(pids);
  return u;
}

}  // namespace ovz::detail
