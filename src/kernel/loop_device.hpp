#pragma once
// Loop devices binding an image file to a block device, the way a VE's disk image is
// mounted. One image is bound to at most one device, so that every mount of it shares one
// superblock: two bindings would be two ext4 instances writing one file.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace ovz::detail {

/// An open loop device bound to an image. The binding ends by itself (LO_FLAGS_AUTOCLEAR)
/// once the device is neither open nor mounted, so a crashed caller leaves no device behind.
struct loop_binding {
  unique_fd fd;        ///< the device, opened read-write
  std::string device;  ///< "/dev/loopN"
};

/// The device `image` is bound to, binding a free one first when there is none. Callers of
/// several processes are serialized by a lock on the image file.
result<loop_binding> bind_loop(const std::filesystem::path& image);

/// That lock, held while it lives, and the device the image is bound to (a running VE's
/// disk, a mount in use). Without one, nothing can mount the image until the lock goes: what
/// a tool that works on the unmounted image needs.
struct image_lock {
  unique_fd file;
  std::optional<loop_binding> bound;
};
result<image_lock> lock_image(const std::filesystem::path& image);
/// Makes the device see the size its image has now (after it grew).
result<void> refresh_loop_capacity(const loop_binding& loop);

}  // namespace ovz::detail
