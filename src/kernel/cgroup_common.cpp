#include "kernel/cgroup_common.hpp"

#include "cpu_list.hpp"
#include "kernel/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <thread>

namespace ovz::detail {
namespace {

// A kernel file that does not read as the kernel documents it: EPROTO, the file named and
// a short, printable excerpt of what it held.
error malformed(const std::string& file, std::string_view text, std::string_view expected) {
  return sys_fail(EPROTO, "{} holds \"{}\" where {} was expected", file, excerpt(text),
                  expected);
}

}  // namespace

namespace {

// ENOENT: a sub-cgroup its owner removed between the listing and the open. ENODEV: one removed
// while open (v2 answers a read of a dead cgroup's files so), as systemd removes a scope once
// its last process is gone.
bool gone(const error& e) { return e.sys_errno() == ENOENT || e.sys_errno() == ENODEV; }

result<void> append_procs(const cgroup_dir& dir, std::vector<pid_t>& pids) {
  auto text = dir.read("cgroup.procs");
  if (!text) return text.error();
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    if (line.empty()) continue;
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec != std::errc() || end != line.data() + line.size() || pid <= 0)
      return malformed(dir.file("cgroup.procs"), line, "a PID");
    pids.push_back(pid);
  }
  // cgroupfs counts a directory's links as 2 plus its sub-cgroups: 2 spares the listing, which
  // costs more than the read of cgroup.procs. Any other count (1: a filesystem that does not
  // count them, as btrfs) lists them.
  if (struct stat st {}; ::fstat(dir.fd(), &st) == 0 && st.st_nlink == 2) return success();
  BOOST_OUTCOME_TRY(names, dir.children());
  for (const auto& name : names) {
    auto sub = dir.child(name);
    if (!sub && gone(sub.error())) continue;
    if (!sub) return sub.error();
    auto listed = append_procs(*sub, pids);
    if (!listed && !gone(listed.error())) return listed;
  }
  return success();
}

// rmdir of `name` below `parent`, its own sub-cgroups first. A cgroup with sub-cgroups or
// tasks refuses with EBUSY; one with neither (a VE's, most often) goes at the first try.
result<void> remove_below(const cgroup_dir& parent, const std::string& name) {
  if (::unlinkat(parent.fd(), name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT)
    return success();
  if (errno != EBUSY) return sys_fail(errno, "rmdir {}", parent.file(name));
  {
    auto dir = parent.child(name);
    if (!dir) return gone(dir.error()) ? success() : result<void>(dir.error());
    BOOST_OUTCOME_TRY(names, dir->children());
    for (const auto& sub : names) {
      BOOST_OUTCOME_TRY(remove_below(*dir, sub));
    }
  }
  for (int attempt = 0;; ++attempt) {
    if (::unlinkat(parent.fd(), name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT)
      return success();
    if (errno != EBUSY || attempt == 2000) return sys_fail(errno, "rmdir {}", parent.file(name));
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

}  // namespace

result<std::vector<pid_t>> read_procs(const cgroup_dir& dir) {
  std::vector<pid_t> pids;
  auto listed = append_procs(dir, pids);
  // The cgroup itself removed after its open (a concurrent stop, systemd): no processes.
  if (!listed && gone(listed.error())) return std::vector<pid_t>{};
  if (!listed) return listed.error();
  return pids;
}

result<std::vector<pid_t>> read_procs(const std::string& path) {
  auto dir = cgroup_dir::open(path);
  if (!dir) return gone(dir.error()) ? std::vector<pid_t>{} : result<std::vector<pid_t>>(dir.error());
  return read_procs(*dir);
}

result<void> remove_tree(const std::string& path) {
  const auto slash = path.rfind('/');
  auto parent = cgroup_dir::open(path.substr(0, slash));
  if (!parent) return gone(parent.error()) ? success() : result<void>(parent.error());
  return remove_below(*parent, path.substr(slash + 1));
}

std::vector<cgroup_membership> memberships_of(std::string_view listed) {
  std::vector<cgroup_membership> out;
  while (!listed.empty()) {
    auto eol = listed.find('\n');
    auto line = listed.substr(0, eol);
    listed = eol == std::string_view::npos ? std::string_view{} : listed.substr(eol + 1);
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) continue;
    cgroup_membership m{line.substr(0, first), {}, line.substr(second + 1)};
    auto controllers = line.substr(first + 1, second - first - 1);
    for (std::size_t at = 0; !controllers.empty() && at <= controllers.size();) {
      auto comma = std::min(controllers.find(',', at), controllers.size());
      m.controllers.push_back(controllers.substr(at, comma - at));
      at = comma + 1;
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string member_of(std::string_view listed, std::string_view controller,
                      const std::string& within) {
  for (const auto& m : memberships_of(listed)) {
    const bool ours = controller.empty()
                          ? m.id == "0" && m.controllers.empty()
                          : std::find(m.controllers.begin(), m.controllers.end(), controller) !=
                                m.controllers.end();
    auto path = m.path;
    if (!ours || path.empty() || path[0] != '/') continue;
    path.remove_prefix(1);
    if (path == within || (path.size() > within.size() && path.substr(0, within.size()) == within &&
                           path[within.size()] == '/'))
      return std::string(path);
  }
  return within;
}

result<void> signal_procs(const cgroup_dir& dir) {
  BOOST_OUTCOME_TRY(pids, read_procs(dir));
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  return success();
}

}  // namespace ovz::detail

namespace ovz::detail {
namespace {

std::optional<std::uint64_t> to_number(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text == "max") return UINT64_MAX;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

result<std::string> cpuset_cpus_for(const cgroup_dir& d, const cgroup_limits& l,
                                    const char* parent_file) {
  if (!l.cpuset_cpus.empty()) return l.cpuset_cpus;
  const std::string file = "../" + std::string(parent_file);
  BOOST_OUTCOME_TRY(parent, d.read(file.c_str()));
  if (l.cpuset_count == 0) return parent;
  auto share = take_cpus(parent, l.cpuset_count, l.cpuset_start);
  if (!share) return with_context(share.error(), d.file(file));
  return share->empty() ? parent : *share;
}

result<std::optional<std::string>> read_if_present(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::optional<std::string>{};
    return text.error();
  }
  return std::optional<std::string>(std::move(*text));
}

result<std::optional<std::uint64_t>> read_number(const cgroup_dir& dir, const char* file) {
  auto text = dir.read(file);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::optional<std::uint64_t>{};
    return text.error();
  }
  auto v = to_number(*text);
  if (!v) return malformed(dir.file(file), *text, "a number");
  return v;
}

result<std::vector<std::optional<std::uint64_t>>> read_keys(
    const cgroup_dir& dir, const char* file, std::initializer_list<std::string_view> keys) {
  std::vector<std::optional<std::uint64_t>> values(keys.size());
  auto text = dir.read(file);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return values;
    return text.error();
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    std::size_t i = 0;
    for (std::string_view key : keys) {
      if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
        auto v = to_number(line.substr(key.size() + 1));
        if (!v) return malformed(dir.file(file), line, "a number");
        values[i] = v;
      }
      ++i;
    }
  }
  return values;
}

result<std::optional<std::uint64_t>> read_keyed(const cgroup_dir& dir, const char* file,
                                                std::string_view key) {
  BOOST_OUTCOME_TRY(values, read_keys(dir, file, {key}));
  return values.front();
}

std::optional<std::uint64_t> limit_of(std::uint64_t value) {
  // Page sizes go up to 64 KiB.
  constexpr std::uint64_t none = INT64_MAX & ~std::uint64_t{0xffff};
  if (value >= none) return std::nullopt;
  return value;
}

result<void> write_number(const cgroup_dir& dir, const char* file,
                          std::optional<std::uint64_t> value, std::string_view none) {
  return dir.write(file, value ? std::to_string(*value) : std::string(none));
}

cgroup_counter make_counter(std::optional<std::uint64_t> held, std::optional<std::uint64_t> peak,
                            std::optional<std::uint64_t> fails, bool enforced) {
  cgroup_counter c;
  c.measured = held.has_value();
  c.held = held.value_or(0);
  c.peak = std::max(peak.value_or(c.held), c.held);
  c.failcnt = fails.value_or(0);
  c.enforced = enforced;
  return c;
}

}  // namespace ovz::detail
