#pragma once
// spawn's plan as bytes, for libovz's helper program (ovz-spawn): where a spawn needs a first
// child beside the process, the caller starts the helper with posix_spawn, which glibc makes a
// vfork, and hands it the plan; the helper forks the process from its own small image. A fork
// of the caller instead copies its page tables (however large the embedding process: a Python
// interpreter, a panel with its threads), makes every page it writes afterwards fault, and
// tears its copy down again at the exec.

#include "kernel/spawn_plan.hpp"

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// The plan with `detach`, descriptors by number: the helper inherits them.
std::string encode_plan(const spawning::plan& p, bool detach);

/// A plan read back, and what its pointers point into.
struct received_plan {
  spawning::plan p;
  bool detach = false;
  std::deque<std::string> text;
  std::vector<int> drop_caps;
  std::string filter;
};

/// Reads what encode_plan wrote; false when `in` is not one whole plan.
bool decode_plan(std::string_view in, received_plan& r);

/// The most descriptors one message to the spawn server carries: the kernel's SCM_MAX_FD
/// (not in a userspace header). A plan passing more goes to a helper started for it alone.
inline constexpr std::size_t max_passed_fds = 253;

/// The descriptors a plan hands over, in the order the spawn server receives them: the plan's
/// list, ascending, without duplicates or -1.
std::vector<int> passed_fds(const spawning::plan& p);

}  // namespace ovz::detail
