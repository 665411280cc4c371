#include "support/immutable_dir.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace ovz::test {

immutable_dir::immutable_dir(const std::filesystem::path& dir)
    : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  int flags = 0;
  if (fd_ >= 0 && ::ioctl(fd_, FS_IOC_GETFLAGS, &saved_) == 0) {
    flags = saved_ | FS_IMMUTABLE_FL;
    if (::ioctl(fd_, FS_IOC_SETFLAGS, &flags) == 0) return;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

immutable_dir::~immutable_dir() {
  if (fd_ < 0) return;
  ::ioctl(fd_, FS_IOC_SETFLAGS, &saved_);
  ::close(fd_);
}

}  // namespace ovz::test
