#pragma once
// config.json's hooks that run in the runtime's namespaces (prestart, createRuntime,
// poststart, poststop): each a host program given the container's state as JSON on its
// stdin, one after another, as the runtime spec orders them.

#include <ovz/oci_bundle.hpp>
#include <ovz/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// Runs `hooks` in order, each with `state_json` on its stdin, its stdout and stderr kept for
/// the error, and its own environment or, without one, ours. The first that cannot start, exits with a status other than 0, is killed or
/// outlives its timeout ends the list: errc::child_failed naming the hook as
/// "hooks.<phase>[i]" with its path and last output.
result<void> run_hooks(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json);

/// Runs every hook of `hooks`, as run_hooks() does, whatever the others do, and logs a
/// warning for each that fails: poststart and poststop hooks do not change the lifecycle.
void run_hooks_warning(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json);

}  // namespace ovz::detail
