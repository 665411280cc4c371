#include "kernel/files.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace ovz::detail {

result<std::string> read_file(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail(errno, "read {}", path);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

result<void> write_file(const std::string& path, std::string_view value) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", path);
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_fail(errno, "write \"{}\" to {}", value, path);
  return success();
}

result<void> sync_dir(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", path);
  if (::fsync(fd.get()) != 0) return sys_fail(errno, "fsync {}", path);
  return success();
}

}  // namespace ovz::detail
