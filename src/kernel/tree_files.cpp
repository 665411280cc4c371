#include "kernel/tree_files.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ovz::detail {
namespace {

constexpr std::uint64_t in_tree = RESOLVE_IN_ROOT | RESOLVE_NO_XDEV;

std::string joined(const std::string& dir, const std::string& name) {
  return dir.empty() || dir == "." ? name : dir + "/" + name;
}

result<void> write_all(int fd, std::string_view data, const std::string& shown) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail(errno, "{}: write", shown);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return success();
}

}  // namespace

result<unique_fd> open_tree_dir(int root, const std::string& dir) {
  return open_below(root, dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY, in_tree);
}

bool exists_in_tree(int root, const std::string& path) {
  return open_below(root, path, O_PATH | O_NOFOLLOW, in_tree).has_value();
}

result<std::optional<std::string>> read_in_tree(int root, const std::string& path,
                                                std::size_t max) {
  // O_NONBLOCK: a FIFO planted there is refused below instead of blocking the host.
  auto fd = open_below(root, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, in_tree);
  if (!fd) {
    const int e = fd.error().sys_errno();
    if (e == ENOENT || e == ELOOP) return std::optional<std::string>{};
    return fd.error();
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys_fail(errno, "{}: fstat", path);
  if (!S_ISREG(st.st_mode)) return fail(errc::invalid_argument, "{} is not a regular file", path);
  if (static_cast<std::uint64_t>(st.st_size) > max)
    return fail(errc::invalid_argument, "{} is larger than {} bytes ({})", path, max, st.st_size);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_fail(errno, "{}: read", path);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max)
      return fail(errc::invalid_argument, "{} is larger than {} bytes", path, max);
  }
  return std::optional<std::string>{std::move(out)};
}

result<void> replace_in_tree(int root, const std::string& dir, const std::string& name,
                             std::string_view content, const tree_file& attrs) {
  const std::string shown = joined(dir, name);
  BOOST_OUTCOME_TRY(parent, open_tree_dir(root, dir));
  struct stat dir_st {};
  if (::fstat(parent.get(), &dir_st) != 0) return sys_fail(errno, "{}: fstat", dir);
  mode_t mode = attrs.mode;
  uid_t uid = attrs.uid.value_or(dir_st.st_uid);
  gid_t gid = attrs.gid.value_or(dir_st.st_gid);
  struct stat old {};
  if (attrs.keep_existing && ::fstatat(parent.get(), name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(old.st_mode)) {
    mode = old.st_mode & 07777;
    uid = old.st_uid;
    gid = old.st_gid;
  }
  // One fixed temporary name: a write killed half-way leaves it, and the next one of the
  // same file takes it over. The VE's lock keeps two of them from meeting.
  const std::string temp = "." + name + ".ovz-new";
  if (::unlinkat(parent.get(), temp.c_str(), 0) != 0 && errno != ENOENT)
    return sys_fail(errno, "{}/{}: unlink", dir, temp);
  unique_fd fd(::openat(parent.get(), temp.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_fail(errno, "{}/{}: create", dir, temp);
  auto written = [&]() -> result<void> {
    BOOST_OUTCOME_TRY(write_all(fd.get(), content, shown));
    if (::fchown(fd.get(), uid, gid) != 0) return sys_fail(errno, "{}: chown {}:{}", shown, uid, gid);
    // After the chown, which clears set-id bits; exactly `mode`, whatever the caller's umask.
    if (::fchmod(fd.get(), mode) != 0) return sys_fail(errno, "{}: chmod {:o}", shown, mode);
    if (::fsync(fd.get()) != 0) return sys_fail(errno, "{}: fsync", shown);
    if (::renameat(parent.get(), temp.c_str(), parent.get(), name.c_str()) != 0)
      return sys_fail(errno, "{}: rename over it", shown);
    return success();
  }();
  if (!written) (void)::unlinkat(parent.get(), temp.c_str(), 0);
  return written;
}

result<bool> make_dir_in_tree(int root, const std::string& dir, const std::string& name,
                              mode_t mode, uid_t uid, gid_t gid) {
  const std::string shown = joined(dir, name);
  BOOST_OUTCOME_TRY(parent, open_tree_dir(root, dir));
  if (::mkdirat(parent.get(), name.c_str(), 0700) != 0) {
    if (errno == EEXIST) return false;
    return sys_fail(errno, "{}: mkdir", shown);
  }
  unique_fd made(::openat(parent.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!made) return sys_fail(errno, "{}: open", shown);
  if (::fchown(made.get(), uid, gid) != 0) return sys_fail(errno, "{}: chown {}:{}", shown, uid, gid);
  if (::fchmod(made.get(), mode) != 0) return sys_fail(errno, "{}: chmod {:o}", shown, mode);
  return true;
}

}  // namespace ovz::detail
