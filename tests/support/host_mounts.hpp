#pragma once
// The host's mount table as one test may compare it before and after: tests running beside it
// mount in their own directories under /tmp and their daemons under /run (Podman's overlays,
// containerd's shims, CRIU's yards), which are not its to judge.

#include <filesystem>
#include <string>

namespace ovz::test {

/// The lines of `mountinfo` (/proc/1/mountinfo: the host's init's) except those whose mount
/// point is under /tmp or /run and not at or under `own` (the test's own directory).
std::string host_mounts(const std::filesystem::path& own,
                        const std::filesystem::path& mountinfo = "/proc/1/mountinfo");

}  // namespace ovz::test
