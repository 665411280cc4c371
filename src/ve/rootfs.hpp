#pragma once
// The root filesystem a VE's init pivots into: the overlay of template and private area,
// with a private /proc, a read-only /sys and a minimal /dev of its own.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "model/layout.hpp"

#include <filesystem>
#include <vector>

namespace ovz::detail {

/// The steps, in order, done by the VE's init in its new mount namespace before pivot_root.
result<std::vector<fs_step>> rootfs_steps(const ve_layout& l,
                                          const std::filesystem::path& template_root);

}  // namespace ovz::detail
