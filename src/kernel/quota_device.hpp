#pragma once
// The device the stock quota tools (quota, repquota, setquota, edquota) find a VE's disk
// by. They look in /proc/mounts for an ext4 with quota and name it by its device; a VE's
// root is an overlay, which they pass over. So the VE gets what OpenVZ gave its containers
// (vzctl's /dev/simfs): a block node /dev/root whose number is its root's device (the
// overlay's), which makes the tools match a directory of the VE with it, and a read-only
// mount of its disk's ext4, named /dev/root, stacked on its root. No path reaches that
// mount (a lookup starts at the root and never steps onto what covers it), so it shows in
// the mount table only. Their quotactl calls on /dev/root go to the VE's monitor, which
// answers them from the disk (ve/quota_broker.hpp).

#include <ovz/result.hpp>

#include <sys/types.h>

#include <string>

namespace ovz::detail {

/// The name the VE sees its disk by.
inline constexpr const char quota_device_path[] = "/dev/root";

/// Shows the ext4 on `loop_device` (the VE's disk, mounted by the host) to the VE whose init
/// is `init`, as above. Runs on a thread of its own.
result<void> show_quota_device(pid_t init, const std::string& loop_device);

}  // namespace ovz::detail
