#pragma once
// Pieces both cgroup backends use.

#include <ovz/result.hpp>

#include "kernel/cgroup_limits.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// Parses a cgroup.procs file; ENOENT (no such cgroup) gives an empty list.
result<std::vector<pid_t>> read_procs(const std::string& dir);
/// mkdir -p of `rel` under `base`, calling `on_new(dir)` for each directory it made.
template <class F>
result<void> make_levels(const std::string& base, const std::string& rel, F on_new);
/// rmdir that waits out EBUSY (exited tasks leave a cgroup a moment after their exit).
result<void> remove_dir(const std::string& dir);
/// SIGKILLs the processes listed in `dir`/cgroup.procs until none is left.
result<void> kill_until_empty(const std::string& dir, std::chrono::milliseconds timeout);

/// A file holding one number; nullopt when the file does not exist. "max" reads as UINT64_MAX.
result<std::optional<std::uint64_t>> read_number(const std::string& file);
/// The value of `key` in a "key value" per line file (memory.stat, pids.events, …); nullopt
/// when the file or the key is missing.
result<std::optional<std::uint64_t>> read_keyed(const std::string& file, std::string_view key);
/// Writes a number, or `none` (the file's word for no limit, "max" or "-1") for nullopt.
result<void> write_number(const std::string& file, std::optional<std::uint64_t> value,
                          std::string_view none);
/// A counter from what the kernel files said: unmeasured without `held`, the peak no lower
/// than what is held now.
cgroup_counter make_counter(std::optional<std::uint64_t> held, std::optional<std::uint64_t> peak,
                            std::optional<std::uint64_t> fails, bool enforced);
/// True when the file exists.
bool has_file(const std::string& file);

}  // namespace ovz::detail

#include "fail.hpp"

#include <sys/stat.h>

namespace ovz::detail {

template <class F>
result<void> make_levels(const std::string& base, const std::string& rel, F on_new) {
  // The parents exist already but for the first VE of a state root: try the leaf alone.
  if (auto slash = rel.rfind('/'); slash != std::string::npos) {
    const std::string leaf = base + "/" + rel;
    if (::mkdir(leaf.c_str(), 0755) == 0) return on_new(base + "/" + rel.substr(0, slash), leaf);
    if (errno == EEXIST) return success();
    if (errno != ENOENT) return sys_fail(errno, "mkdir {}", leaf);
  }
  std::string dir = base;
  std::size_t start = 0;
  while (start < rel.size()) {
    auto end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string parent = dir;
    dir += "/" + rel.substr(start, end - start);
    start = end + 1;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      BOOST_OUTCOME_TRY(on_new(parent, dir));
    } else if (errno != EEXIST) {
      return sys_fail(errno, "mkdir {}", dir);
    }
  }
  return success();
}

}  // namespace ovz::detail
