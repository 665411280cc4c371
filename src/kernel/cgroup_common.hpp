#pragma once
// Pieces both cgroup backends use.

#include <ovz/result.hpp>

#include <sys/types.h>

#include <chrono>
#include <string>
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

}  // namespace ovz::detail

#include "fail.hpp"

#include <sys/stat.h>

namespace ovz::detail {

template <class F>
result<void> make_levels(const std::string& base, const std::string& rel, F on_new) {
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
