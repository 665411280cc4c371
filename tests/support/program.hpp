#pragma once
// A program run to its end, both output streams collected: how the tests drive the command
// line tools (ovzctl, ovz-oci) as a script would.

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

}  // namespace ovz::test
