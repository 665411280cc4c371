#pragma once
// The root filesystem a VE's init pivots into: the overlay of template and private area,
// with a private /proc, a read-only /sys and a minimal /dev of its own.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "model/layout.hpp"

#include <filesystem>
#include <cstdint>
#include <optional>
#include <vector>

namespace ovz::detail {

/// The steps, in order, done by the VE's init in its new mount namespace before pivot_root.
/// With `userns_root` (a VE in a user namespace), the root is that detached overlay (see
/// ve/userns.hpp) rather than one mounted by the VE, and /dev holds the host's nodes.
/// `max_ptys` caps the pseudo-terminals of the VE's own devpts (NUMPTY), so that one VE cannot
/// take every pty the host has.
result<std::vector<fs_step>> rootfs_steps(const ve_layout& l,
                                          const std::filesystem::path& template_root,
                                          int userns_root = -1,
                                          std::optional<std::uint64_t> max_ptys = {});

}  // namespace ovz::detail
