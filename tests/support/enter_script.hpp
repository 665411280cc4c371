#pragma once
// ve::enter driven by a script instead of a person: the script is the terminal's input, and
// what the shell wrote to the terminal comes back.

#include <ovz/ve.hpp>

#include <string>

namespace ovz::test {

struct entered {
  int exit_code = -1;
  std::string seen;  ///< the terminal's output, with its \r\n line ends
};

/// Runs /bin/sh through enter() with `script` as its input; fails the test if enter fails.
entered enter_script(const ve& v, const std::string& script);

}  // namespace ovz::test
