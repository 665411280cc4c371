#pragma once
// Running a host tool (tar, busybox) to completion and collecting its output, without fork:
// posix_spawn, so an embedding program's threads and signal handlers do not matter.

#include <ovz/result.hpp>

#include <sys/types.h>

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

/// The last `count` lines of a tool's output, trailing blanks dropped, "…" before them where
/// some were left out: what a failure's message quotes of it.
std::string last_lines(std::string output, int count);

/// Starts argv[0] as run_tool() does, without waiting: its stdout and stderr go to `out_fd`
/// and `err_fd` (-1: /dev/null), the descriptors of `extra` become its 3, 4, … in order,
/// and `in_fd` its stdin (-1: /dev/null). Its PID, for the caller to reap.
result<pid_t> spawn_tool(const std::vector<std::string>& argv, int out_fd, int err_fd,
                         const std::vector<int>& extra = {}, int in_fd = -1);

/// spawn_tool() of the program `path` (searched in PATH unless it has a slash) with `argv`
/// as it is (argv[0] need not be the path; empty: just the path) and the environment `env`
/// (nullptr: ours).
result<pid_t> spawn_program(const std::string& path, const std::vector<std::string>& argv,
                            const std::vector<std::string>* env, int out_fd, int err_fd,
                            const std::vector<int>& extra = {}, int in_fd = -1);

}  // namespace ovz::detail
