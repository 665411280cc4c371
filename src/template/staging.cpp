#include "template/internal.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace ovz::detail {

namespace fs = std::filesystem;

result<void> write_new_file(const fs::path& path, std::string_view content, mode_t mode) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return sys_fail(errno, "{}: open", path.string());
  while (!content.empty()) {
    ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_fail(errno, "{}: write", path.string());
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  if (::fchmod(fd.get(), mode) != 0) return sys_fail(errno, "{}: fchmod", path.string());
  if (::close(fd.release()) != 0) return sys_fail(errno, "{}: close", path.string());
  return success();
}

result<void> make_template_dir(const fs::path& dir) { return make_root_only_dir(dir); }

result<staging_dir> staging_dir::create(const fs::path& dir, std::string_view name) {
  // The pid tells whose leftover a stale directory is; the random part keeps threads of one
  // process apart.
  std::string path = (dir / fmt::format(".{}.tmp-{}-XXXXXX", name, ::getpid())).string();
  if (!::mkdtemp(path.data())) return sys_fail(errno, "{}: mkdtemp", path);
  staging_dir staged{fs::path(path)};
  // mkdtemp makes it 0700, but it becomes the template's root directory.
  if (::chmod(path.c_str(), 0755) != 0) return sys_fail(errno, "{}: chmod", path);
  return staged;
}

staging_dir::staging_dir(staging_dir&& o) noexcept : path_(std::exchange(o.path_, {})) {}

staging_dir::~staging_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

result<bool> staging_dir::publish(const fs::path& target) {
  if (::rename(path_.c_str(), target.c_str()) == 0) {
    path_.clear();
    return true;
  }
  // rename() refuses to replace a non-empty directory, and every template has a /bin/sh.
  if (errno == EEXIST || errno == ENOTEMPTY) return false;
  return sys_fail(errno, "rename {} to {}", path_.string(), target.string());
}

}  // namespace ovz::detail
