#pragma once
// A shell command run inside a running VE, as most integration tests check what a VE sees.

#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include <string>

namespace ovz::test {

/// `/bin/sh -c script` in the VE, whatever its exit code.
inline exec_result run_sh(const ve& v, const std::string& script) {
  return MUST(v.exec({"/bin/sh", "-c", script}));
}

/// Its output; the test fails (and goes on) unless it exits 0, showing its stderr.
inline std::string sh(const ve& v, const std::string& script) {
  auto r = run_sh(v, script);
  INFO(script << ": " << r.err);
  CHECK(r.exit_code == 0);
  return r.out;
}

}  // namespace ovz::test
