#pragma once
// A program run to its end, both output streams collected: how the tests drive the command
// line tools (ovzctl, ovz-oci) as a script would.

#include <filesystem>
#include <string>
#include <vector>

namespace ovz::test {

struct outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `args` (a program's absolute path first), stdin read from `stdin_path`; collects
/// both output streams until it exits and every process holding them has closed them.
outcome run_program(std::vector<std::string> args, const std::string& stdin_path = "/dev/null");

/// Everything about a run, for a check on it that fails.
std::string describe(const outcome& r);

/// A container's root at `root`: /bin/busybox (the host's static one) and these applets
/// linked to it, and the directories mounts go on.
void make_busybox_root(const std::filesystem::path& root, const std::vector<std::string>& applets);

}  // namespace ovz::test
