#pragma once
// The verbs of ovzctl, each a few calls of the public libovz API and vzctl's messages around them.

#include "ovzctl/args.hpp"

namespace ovzctl {

inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

/// Carries out a parsed command and returns the process's exit status. Library errors are
/// reported on stderr as "ovzctl: <message>" and give exit_failure.
int run(const command& cmd);

}  // namespace ovzctl
