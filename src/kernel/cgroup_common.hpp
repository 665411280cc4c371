#pragma once
// Pieces every cgroup manager and resource writer uses.

#include <ovz/result.hpp>

#include "kernel/cgroup_dir.hpp"
#include "kernel/cgroup_limits.hpp"

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// The processes of a cgroup and of every sub-cgroup below it, however deep: a VE's own init
/// (a systemd) makes sub-cgroups and moves its processes there. A sub-cgroup removed during
/// the walk is skipped, and one removed after it was opened has none.
result<std::vector<pid_t>> read_procs(const cgroup_dir& dir);
/// The same for a cgroup named by path; ENOENT (no such cgroup) gives an empty list.
result<std::vector<pid_t>> read_procs(const std::string& path);
/// One line of /proc/PID/cgroup: "ID:CONTROLLERS:/PATH" (the path may hold ':').
struct cgroup_membership {
  std::string_view id;
  std::vector<std::string_view> controllers;  ///< none on cgroup v2's line ("0::")
  std::string_view path;
};
/// The lines of /proc/PID/cgroup (`listed`), as views into it; malformed lines skipped.
std::vector<cgroup_membership> memberships_of(std::string_view listed);
/// Where /proc/PID/cgroup (`listed`) puts the process in the hierarchy whose line has
/// `controller` among its controllers ("" for the cgroup v2 line "0::"), if that is `within`
/// or below it; `within` otherwise. Paths relative to the hierarchy's root, as `within` is.
std::string member_of(std::string_view listed, std::string_view controller,
                      const std::string& within);
/// mkdir -p of `rel` under `base`, then `settle(parent, dir)` for every level, whether this
/// call made it or found it: a crash, or a concurrent first start still on its way, may have
/// left a level made but not set up. A level that another VE's destroy removes meanwhile (the
/// last VE of a state root takes the parent with it) is made again.
template <class F>
result<void> make_levels(const std::string& base, const std::string& rel, F settle);
/// cgroup v2: enables in `parent`'s cgroup.subtree_control what it offers of the controllers
/// VEs use, so that its children get their files; one the kernel refuses (a cgroup with
/// processes of its own refuses all) is logged and left off.
result<void> enable_controllers(const std::string& parent);
/// Removes the cgroup at `path` and every sub-cgroup below it, the deepest first; fine when it
/// does not exist. Each rmdir waits out EBUSY (exited tasks leave a cgroup a moment after
/// their exit).
result<void> remove_tree(const std::string& path);
/// Calls `kill_round()` every 2 ms until `dir` and its sub-cgroups list no process (or `dir`
/// is removed), or fails with errc::timed_out after `timeout`.
template <class F>
result<void> kill_until_empty(const cgroup_dir& dir, std::chrono::milliseconds timeout,
                              F kill_round);
/// SIGKILLs each process of `dir` and its sub-cgroups. A listed process may exit and its PID
/// be reused before the signal: managers hold the cgroup still first where they can.
result<void> signal_procs(const cgroup_dir& dir);
/// Reads `file` of `dir` every millisecond until `done(content)`, for at most a second: a
/// freezer that cannot stop a task in uninterruptible sleep (a hung NFS server) times out.
template <class F>
result<void> wait_for(const cgroup_dir& dir, const char* file, F done, std::string_view what);

/// The content of a cgroup's file at `path`; nullopt when it does not exist (no such cgroup,
/// or a controller that is not there).
/// The CPUs to write into a VE's cpuset.cpus for `l`: those it names, else its share of the
/// parent's (`parent_file`: v1's cpuset.cpus, v2's cpuset.cpus.effective), else all of the
/// parent's, written out: a cpuset with processes may not become empty, v2's "all" too.
result<std::string> cpuset_cpus_for(const cgroup_dir& d, const cgroup_limits& l,
                                    const char* parent_file);

result<std::optional<std::string>> read_if_present(const std::string& path);
/// A file holding one number; nullopt when the file does not exist. "max" reads as UINT64_MAX.
result<std::optional<std::uint64_t>> read_number(const cgroup_dir& dir, const char* file);
/// The value of `key` in a "key value" per line file (memory.stat, pids.events, …); nullopt
/// when the file or the key is missing.
result<std::optional<std::uint64_t>> read_keyed(const cgroup_dir& dir, const char* file,
                                                std::string_view key);
/// The values of several keys from one read of such a file (memory.stat is costly to read),
/// in the order of `keys`.
result<std::vector<std::optional<std::uint64_t>>> read_keys(
    const cgroup_dir& dir, const char* file, std::initializer_list<std::string_view> keys);
/// A limit read from a kernel file: nullopt for the file's "no limit" ("max", or v1's -1,
/// which reads back as LONG_MAX rounded down to a page).
std::optional<std::uint64_t> limit_of(std::uint64_t value);
/// Writes a number, or `none` (the file's word for no limit, "max" or "-1") for nullopt.
result<void> write_number(const cgroup_dir& dir, const char* file,
                          std::optional<std::uint64_t> value, std::string_view none);
/// A counter from what the kernel files said: unmeasured without `held`, the peak no lower
/// than what is held now.
cgroup_counter make_counter(std::optional<std::uint64_t> held, std::optional<std::uint64_t> peak,
                            std::optional<std::uint64_t> fails, bool enforced);

}  // namespace ovz::detail

#include "fail.hpp"
#include "kernel/fault.hpp"

#include <sys/stat.h>

#include <thread>

namespace ovz::detail {

template <class F>
result<void> make_levels(const std::string& base, const std::string& rel, F settle) {
  auto once = [&]() -> result<void> {
    std::string dir = base;
    for (std::size_t start = 0; start < rel.size();) {
      auto end = rel.find('/', start);
      if (end == std::string::npos) end = rel.size();
      const std::string parent = dir;
      dir += "/" + rel.substr(start, end - start);
      start = end + 1;
      if (::mkdir(dir.c_str(), 0755) == 0)
        fault_point("cgroup:level-made");
      else if (errno == EEXIST)
        fault_point("cgroup:level-found");
      else
        return sys_fail(errno, "mkdir {}", dir);
      BOOST_OUTCOME_TRY(settle(parent, dir));
    }
    return success();
  };
  // ENOENT: a level was removed under us (see above). Each destroy removes it at most once,
  // so a few rounds are enough unless something keeps removing it.
  for (int round = 0;; ++round) {
    auto made = once();
    if (made || made.error().sys_errno() != ENOENT || round == 100) return made;
  }
}

template <class F>
result<void> kill_until_empty(const cgroup_dir& dir, std::chrono::milliseconds timeout,
                              F kill_round) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Killed processes are gone within a fraction of a millisecond, once their parents have
  // reaped them: looked at soon at first, then less often.
  auto pause = std::chrono::microseconds(100);
  // A cgroup removed meanwhile lists no processes (systemd removes a scope's cgroups, the
  // VE's below it included, as soon as their last process has exited).
  for (;;) {
    BOOST_OUTCOME_TRY(pids, read_procs(dir));
    if (pids.empty()) return success();
    if (std::chrono::steady_clock::now() > deadline)
      return fail(errc::timed_out, "{} still has {} processes after SIGKILL (first: PID {})",
                  dir.path(), pids.size(), pids.front());
    if (auto killed = kill_round(); !killed && killed.error().sys_errno() != ENOENT)
      return killed.error();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

template <class F>
result<void> wait_for(const cgroup_dir& dir, const char* file, F done, std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (auto pause = std::chrono::microseconds(100);;) {
    BOOST_OUTCOME_TRY(now, dir.read(file));
    if (done(now)) return success();
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  return fail(errc::timed_out, "{} is not {} after 1 s", dir.file(file), what);
}

}  // namespace ovz::detail
