#pragma once
// What a VE's init mounts on its root (which its storage provides, ve/storage.hpp) before it
// pivots into it: a private /proc, a read-only /sys, a minimal /dev and an empty /run of its
// own.

#include <ovz/namespaces.hpp>

#include <filesystem>
#include <cstdint>
#include <optional>
#include <vector>

namespace ovz::detail {

/// The steps, in order, done by the VE's init in its new mount namespace after its root is
/// mounted at `root` and before pivot_root. In a user namespace (`userns`) /dev holds the
/// host's nodes bound rather than made. `max_ptys` caps the pseudo-terminals of the VE's own
/// devpts (NUMPTY), so that one VE cannot take every pty the host has. No system call.
std::vector<fs_step> rootfs_steps(const std::filesystem::path& root, bool userns,
                                  std::optional<std::uint64_t> max_ptys = {});

}  // namespace ovz::detail
