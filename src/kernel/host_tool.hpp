#pragma once
// Running a host tool (tar, busybox) to completion and collecting its output, without fork:
// posix_spawn, so an embedding program's threads and signal handlers do not matter.

#include <ovz/result.hpp>

#include <string>
#include <vector>

namespace ovz::detail {

/// Which of the tool's output streams run_tool() returns; the other goes to /dev/null.
enum class capture { out, out_and_err };

/// Runs argv[0] (searched in PATH unless it has a slash) with stdin from /dev/null, and returns
/// what it wrote to the captured streams. errc::child_failed, with the last 15 lines of that
/// output, unless it exits with a status up to `last_good` (fsck's 1: errors corrected).
result<std::string> run_tool(const std::vector<std::string>& argv, capture what,
                             int last_good = 0);

}  // namespace ovz::detail
