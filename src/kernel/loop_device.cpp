#include "kernel/loop_device.hpp"

#include "fail.hpp"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace ovz::detail {
namespace {

constexpr const char* sys_block = "/sys/block";

// The bound loop device whose backing file is (dev, ino): each bound device has a
// loop/backing_file in sysfs, and its status names the file by device and inode, which
// survives the renames a path would not.
result<std::optional<loop_binding>> find_bound(dev_t dev, ino_t ino) {
  std::error_code ec;
  std::filesystem::directory_iterator it(sys_block, ec);
  if (ec) return sys_fail(ec.value(), "list {}", sys_block);
  for (const auto& entry : it) {
    const auto name = entry.path().filename().string();
    if (name.rfind("loop", 0) != 0) continue;
    if (!std::filesystem::exists(entry.path() / "loop" / "backing_file", ec)) continue;
    const auto device = "/dev/" + name;
    unique_fd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT || errno == ENXIO) continue;
      return sys_fail(errno, "open {}", device);
    }
    struct loop_info64 info {};
    if (::ioctl(fd.get(), LOOP_GET_STATUS64, &info) != 0) {
      if (errno == ENXIO) continue;  // unbound since the listing
      return sys_fail(errno, "LOOP_GET_STATUS64 on {}", device);
    }
    if (info.lo_device == dev && info.lo_inode == ino)
      return std::optional<loop_binding>(loop_binding{std::move(fd), device});
  }
  return std::optional<loop_binding>{};
}

result<loop_binding> bind_free(const std::filesystem::path& image) {
  // An open file of its own: the device keeps it for as long as it is bound, and the lock
  // bind_loop holds on its caller's would go with it.
  unique_fd backing(::open(image.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!backing) return sys_fail(errno, "open {}", image.string());
  unique_fd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control)
    return sys_fail(errno, "open /dev/loop-control (a VE's disk image needs loop devices: "
                           "modprobe loop)");
  // Another program may take the free device between the two calls: then ask again.
  for (int attempt = 0;; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return sys_fail(errno, "LOOP_CTL_GET_FREE");
    const auto device = fmt::format("/dev/loop{}", n);
    unique_fd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return sys_fail(errno, "open {}", device);
    struct loop_config config {};
    config.fd = static_cast<std::uint32_t>(backing.get());
    config.block_size = 4096;
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
    std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), image.c_str(),
                 LO_NAME_SIZE - 1);
    if (::ioctl(fd.get(), LOOP_CONFIGURE, &config) == 0) return loop_binding{std::move(fd), device};
    if (errno != EBUSY || attempt == 100)
      return sys_fail(errno, "LOOP_CONFIGURE {} with {}", device, image.string());
  }
}

}  // namespace

result<image_lock> lock_image(const std::filesystem::path& image) {
  unique_fd file(::open(image.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!file) return sys_fail(errno, "open {}", image.string());
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return sys_fail(errno, "stat {}", image.string());
  while (::flock(file.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return sys_fail(errno, "flock {}", image.string());
  }
  BOOST_OUTCOME_TRY(bound, find_bound(st.st_dev, st.st_ino));
  return image_lock{std::move(file), std::move(bound)};
}

result<loop_binding> bind_loop(const std::filesystem::path& image) {
  // Locked until the device is bound, so that another caller finds it instead of binding a
  // second one.
  BOOST_OUTCOME_TRY(lock, lock_image(image));
  if (lock.bound) return std::move(*lock.bound);
  return bind_free(image);
}

result<void> refresh_loop_capacity(const loop_binding& loop) {
  if (::ioctl(loop.fd.get(), LOOP_SET_CAPACITY, 0) != 0)
    return sys_fail(errno, "LOOP_SET_CAPACITY on {}", loop.device);
  return success();
}

}  // namespace ovz::detail
