#include <ovz/fd.hpp>

#include <unistd.h>

namespace ovz::inline v0 {

void unique_fd::reset(int fd) noexcept {
  // close() may fail with EINTR, but on Linux the descriptor is released regardless, so
  // retrying would close somebody else's.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

}  // namespace ovz::inline v0
