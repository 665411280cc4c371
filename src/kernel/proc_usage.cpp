#include "kernel/proc_usage.hpp"

#include "kernel/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstddef>
#include <string>
#include <string_view>

namespace ovz::detail {
namespace {

// The whole of a /proc file held open, read again from its start; false when it cannot be
// read any more (ESRCH: its process is gone).
bool reread(int fd, std::string& out) {
  auto text = reread_file(fd, "/proc file");
  if (!text) return false;
  out = std::move(*text);
  return true;
}

unique_fd open_proc(const std::string& path) {
  return unique_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

// The number after `field` on the line that starts with `key` ("TCP: inuse 3 orphan 0").
std::uint64_t field_of(std::string_view text, std::string_view key, std::string_view field) {
  for (std::size_t at = 0; at < text.size();) {
    auto eol = text.find('\n', at);
    auto line = text.substr(at, eol == std::string_view::npos ? text.npos : eol - at);
    at = eol == std::string_view::npos ? text.size() : eol + 1;
    if (!line.starts_with(key) || line.size() == key.size() || line[key.size()] != ' ') continue;
    auto pos = line.find(field);
    while (pos != std::string_view::npos &&
           (line[pos - 1] != ' ' || pos + field.size() >= line.size() ||
            line[pos + field.size()] != ' '))
      pos = line.find(field, pos + 1);
    if (pos == std::string_view::npos) return 0;
    std::uint64_t n = 0;
    auto from = line.data() + pos + field.size() + 1;
    std::from_chars(from, line.data() + line.size(), n);
    return n;
  }
  return 0;
}

// Entries of a directory held open, but "." and ".." (`digits_only`: those named by a
// number); false when it cannot be read any more. procfs and devpts fill what getdents64 is
// given up to their last entry, so a read that left room for the longest one was the end:
// one call where readdir(3) makes a second to be told so.
bool count_entries(int dir, std::uint64_t& n, bool digits_only) {
  constexpr std::size_t longest = (offsetof(dirent64, d_name) + NAME_MAX + 1 + 7) & ~std::size_t{7};
  alignas(dirent64) char buf[8192];
  if (::lseek(dir, 0, SEEK_SET) != 0) return false;
  for (;;) {
    const ssize_t got = ::getdents64(dir, buf, sizeof buf);
    if (got < 0) return false;
    for (ssize_t at = 0; at < got;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf + at);
      if (digits_only ? (e->d_name[0] >= '0' && e->d_name[0] <= '9') : e->d_name[0] != '.') ++n;
      at += e->d_reclen;
    }
    if (sizeof buf - static_cast<std::size_t>(got) >= longest) return true;
  }
}

// Linux 6.2 on gives a process's count of open descriptors as the size of its fd/ directory,
// one fstat instead of a listing; before, the size is 0. This process has one open at least
// (the one it looks with), so a size tells.
bool fd_dirs_sized() {
  static const bool sized = [] {
    unique_fd fd(::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    return fd && ::fstat(fd.get(), &st) == 0 && st.st_size > 0;
  }();
  return sized;
}

// Open descriptors of a process, from its fd/ held open; false when it is gone (ENOENT).
bool count_fds(int dir, std::uint64_t& n) {
  if (!fd_dirs_sized()) return count_entries(dir, n, false);
  struct stat st {};
  if (::fstat(dir, &st) != 0) return false;
  n += static_cast<std::uint64_t>(st.st_size);
  return true;
}

// "VmLck:\t   0 kB" and the like, in bytes.
std::uint64_t kib_of(std::string_view status, std::string_view key) {
  auto pos = status.find(key);
  if (pos == std::string_view::npos) return 0;
  auto from = status.data() + pos + key.size();
  auto end = status.data() + status.size();
  while (from != end && (*from == ' ' || *from == '\t')) ++from;
  std::uint64_t kib = 0;
  std::from_chars(from, end, kib);
  return kib * 1024;
}

}  // namespace

bool proc_meter::measure_process(process_files& p, proc_usage& u) {
  // Opened by PID when first seen: a PID the kernel gave to another process since makes
  // the old descriptors fail (ESRCH, ENOENT), and the caller opens them again, once.
  if (!p.status || !p.fds) {
    const auto dir = "/proc/" + std::to_string(p.pid);
    p.status = open_proc(dir + "/status");
    p.fds = unique_fd(::open((dir + "/fd").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  std::string status;
  std::uint64_t files = 0;
  if (!p.status || !reread(p.status.get(), status) || !p.fds || !count_fds(p.fds.get(), files))
    return false;
  u.files += files;
  u.locked_bytes += kib_of(status, "\nVmLck:");
  u.privvm_bytes += kib_of(status, "\nVmData:") + kib_of(status, "\nVmStk:");
  return true;
}

proc_usage proc_meter::measure(const std::vector<pid_t>& pids, pid_t init,
                               const std::vector<held_lock>& locks) {
  proc_usage u;
  if (pids.empty()) return u;
  if (init != init_) {
    init_ = init;
    const auto net = "/proc/" + std::to_string(init) + "/net/";
    sockstat_ = open_proc(net + "sockstat");
    sockstat6_ = open_proc(net + "sockstat6");
    pts_.reset();
    // Resolved in the VE's root: a /dev/pts symlink it planted must not count the host's.
    if (auto root = open_root_of(init)) {
      auto pts = open_below(root->get(), "dev/pts", O_RDONLY | O_DIRECTORY, RESOLVE_IN_ROOT);
      if (pts) pts_ = std::move(*pts);
    }
  }
  std::vector<process_files> kept;
  kept.reserve(pids.size());
  // The processes are listed in the same order each time: each is looked for after the last.
  std::size_t next = 0;
  for (pid_t pid : pids) {
    process_files p{pid, {}, {}};
    for (std::size_t i = 0, n = processes_.size(); i < n; ++i) {
      auto& known = processes_[(next + i) % n];
      if (known.pid == pid) {
        p = std::move(known);
        next = (next + i) % n + 1;
        break;
      }
    }
    if (!measure_process(p, u)) {
      p = process_files{pid, {}, {}};
      if (!measure_process(p, u)) continue;  // it exited
    }
    kept.push_back(std::move(p));
  }
  processes_ = std::move(kept);

  std::string text;
  if (sockstat_ && reread(sockstat_.get(), text)) {
    u.tcp_sockets = field_of(text, "TCP:", "inuse");
    const std::uint64_t all = field_of(text, "sockets:", "used");
    if (sockstat6_ && reread(sockstat6_.get(), text)) u.tcp_sockets += field_of(text, "TCP6:", "inuse");
    u.other_sockets = all > u.tcp_sockets ? all - u.tcp_sockets : 0;
  }
  if (pts_) count_entries(pts_.get(), u.ptys, true);
  for (const auto& l : locks)
    if (std::find(pids.begin(), pids.end(), l.pid) != pids.end()) ++u.flocks;
  return u;
}

proc_usage measure_processes(const std::vector<pid_t>& pids, pid_t init) {
  proc_meter m;
  return m.measure(pids, init, held_locks());
}

}  // namespace ovz::detail
