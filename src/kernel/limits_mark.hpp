#pragma once
// A mark on a VE's cgroup that its limits were written, for a reader that shows the limits in
// force (a live change not saved is in the kernel, not in CTID.conf) without reading them back
// from four or five files each time: it reads the mark, one xattr of the cgroup's directory,
// and the limits only when the mark changed. Only the library writes a VE's limits (delegation
// gives the VE's root no limit file) and only the host's root a trusted.* xattr. A limit
// written into the cgroup by hand shows in such a reader after the next write through the
// library, or a restart of the VE.

#include <ovz/result.hpp>

#include "kernel/cgroup_dir.hpp"
#include "kernel/cgroup_resources.hpp"

#include <cstdint>
#include <optional>

namespace ovz::detail {

/// Leaves a new mark on `cg` once its limits were written: each write its own, so that of two
/// writers at once the second cannot leave the mark a reader saw after the first. A
/// filesystem without xattrs (EOPNOTSUPP) is no error: readers read the limits back each time.
result<void> mark_limits_written(const ve_cgroup& cg);

/// Writes `limits` into `cg` through `resources` and leaves a new mark: the one way the library
/// changes a VE's limits, so that no write goes unseen by a reader. Where the write fails part
/// of it may be in place, and the mark is left all the same.
result<void> write_limits(cgroup_resources& resources, const ve_cgroup& cg,
                          const cgroup_limits& limits);

/// The mark on `cg` now, to read before its limits: 0 where none was left yet; nullopt where
/// it cannot tell (no xattrs here, or no CAP_SYS_ADMIN to see them), and the limits are to be
/// read back.
std::optional<std::uint64_t> limits_mark(const ve_cgroup& cg);

}  // namespace ovz::detail
