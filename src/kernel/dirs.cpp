#include "kernel/dirs.hpp"

#include "fail.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace ovz::detail {

namespace fs = std::filesystem;

result<void> make_dir(const fs::path& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    if (errno == EEXIST) return success();
    return sys_fail(errno, "{}: mkdir", path.string());
  }
  // mkdir applies the umask of whichever process embeds the library.
  if (::chmod(path.c_str(), mode) != 0) return sys_fail(errno, "{}: chmod", path.string());
  return success();
}

result<void> make_root_only_dir(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return sys_fail(ec.value(), "{}: mkdir", path.parent_path().string());
  if (::mkdir(path.c_str(), 0700) == 0) return success();
  if (errno != EEXIST) return sys_fail(errno, "{}: mkdir", path.string());
  // Followed: an admin may have put the directory elsewhere through a symlink.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return sys_fail(errno, "{}: stat", path.string());
  if (!S_ISDIR(st.st_mode)) return sys_fail(ENOTDIR, "{}", path.string());
  if ((st.st_mode & 0077) == 0) return success();
  if (::chmod(path.c_str(), 0700) != 0) return sys_fail(errno, "{}: chmod 0700", path.string());
  return success();
}

}  // namespace ovz::detail
