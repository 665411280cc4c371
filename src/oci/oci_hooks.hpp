#pragma once
// config.json's hooks: those of the runtime's namespaces (prestart, createRuntime, poststart,
// poststop), each a host program, and startContainer's, run in the container; each is given
// the container's state as JSON on its stdin, one after another, as the runtime spec orders.

#include <ovz/namespaces.hpp>
#include <ovz/oci_bundle.hpp>
#include <ovz/oci_container.hpp>
#include <ovz/result.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// Runs `hooks` in order, each with `state_json` on its stdin, its stdout and stderr kept for
/// the error, and its own environment or, without one, ours. The first that cannot start,
/// exits with a status other than 0, is killed or outlives its timeout ends the list:
/// errc::child_failed naming the hook as "hooks.<phase>[i]" with its path and last output.
result<void> run_hooks(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json);

/// Starts a process in the container, as exec does.
using container_exec = std::function<result<process>(const oci_process&, const oci_io&)>;

/// run_hooks() of hooks that run inside the container (startContainer), each started by
/// `exec` with its path as argv[0], resolved there.
result<void> run_hooks_inside(const std::vector<oci_hook>& hooks, std::string_view phase,
                              const std::string& state_json, const container_exec& exec);

/// Runs every hook of `hooks`, as run_hooks() does, whatever the others do, and logs a
/// warning for each that fails: poststart and poststop hooks do not change the lifecycle.
void run_hooks_warning(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json);

}  // namespace ovz::detail
