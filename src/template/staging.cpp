#include "template/internal.hpp"

#include "fail.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace ovz::detail {
namespace {

namespace fs = std::filesystem;

// The pid tells whose leftover a stale directory is; the random part keeps threads of one
// process apart. Made 0700 by mkdtemp.
result<std::string> make_temp_dir(const fs::path& dir, std::string_view name) {
  std::string path = (dir / fmt::format(".{}.tmp-{}-XXXXXX", name, ::getpid())).string();
  if (!::mkdtemp(path.data())) return sys_fail(errno, "{}: mkdtemp", path);
  return path;
}

bool is_staging_name(const std::string& name) {
  return name.starts_with('.') && name.find(".tmp-") != std::string::npos;
}

result<void> remove_stale_staging(const fs::path& dir) {
  unique_fd store(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!store) return sys_fail(errno, "{}: open", dir.string());
  // Someone is making a staging directory or cleaning up: the next operation cleans.
  if (::flock(store.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK || errno == EINTR) return success();
    return sys_fail(errno, "{}: flock", dir.string());
  }
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!is_staging_name(it->path().filename().string())) continue;
    unique_fd staged(
        ::open(it->path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!staged) continue;
    // Held by a builder that is still at work.
    if (::flock(staged.get(), LOCK_EX | LOCK_NB) != 0) continue;
    std::error_code rm_ec;
    fs::remove_all(it->path(), rm_ec);
    if (rm_ec) return sys_fail(rm_ec.value(), "{}: removing a killed build", it->path().string());
  }
  if (ec) return sys_fail(ec.value(), "{}: listing", dir.string());
  return success();
}

result<void> sync_path(const fs::path& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "{}: open", path.string());
  if (::fsync(fd.get()) != 0) return sys_fail(errno, "{}: fsync", path.string());
  return success();
}

// A crash after the rename but before writeback would otherwise publish empty files (a
// 0-byte bin/busybox: "Exec format error" in every VE). Symlinks, device nodes and FIFOs
// have no data: their directory's fsync records them.
result<void> sync_tree(const fs::path& root) {
  BOOST_OUTCOME_TRY(sync_path(root));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    auto type = it->symlink_status(ec).type();
    if (ec) break;
    if (type == fs::file_type::regular || type == fs::file_type::directory) {
      BOOST_OUTCOME_TRY(sync_path(it->path()));
    }
  }
  if (ec) return sys_fail(ec.value(), "{}: listing", root.string());
  return success();
}

}  // namespace

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

result<void> make_template_dir(const fs::path& dir) {
  BOOST_OUTCOME_TRY(make_root_only_dir(dir));
  return remove_stale_staging(dir);
}

result<unique_fd> lock_store(const fs::path& dir, int how) {
  unique_fd store(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!store) return sys_fail(errno, "{}: open", dir.string());
  while (::flock(store.get(), how) != 0) {
    if (errno != EINTR) return sys_fail(errno, "{}: flock", dir.string());
  }
  return store;
}

result<void> discard(const fs::path& dir, std::string_view name) {
  BOOST_OUTCOME_TRY(trash, make_temp_dir(dir, name));
  // Replaces the empty directory in one step: the template is either in place or in the trash.
  if (::rename((dir / name).c_str(), trash.c_str()) != 0) {
    int err = errno;
    ::rmdir(trash.c_str());
    return sys_fail(err, "rename {} to {}", (dir / name).string(), trash);
  }
  std::error_code ec;
  fs::remove_all(trash, ec);
  if (ec) return sys_fail(ec.value(), "{}: remove", trash);
  return success();
}

result<staging_dir> staging_dir::create(const fs::path& dir, std::string_view name) {
  // Until the new directory is locked, a cleaner would take it for a killed builder's.
  auto store = lock_store(dir, LOCK_SH);
  if (!store) return store.error();
  BOOST_OUTCOME_TRY(path, make_temp_dir(dir, name));
  staging_dir staged{fs::path(path)};
  staged.lock_.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!staged.lock_) return sys_fail(errno, "{}: open", path);
  if (::flock(staged.lock_.get(), LOCK_EX | LOCK_NB) != 0)
    return sys_fail(errno, "{}: flock", path);
  // mkdtemp makes it 0700, but it becomes the template's root directory.
  if (::fchmod(staged.lock_.get(), 0755) != 0) return sys_fail(errno, "{}: chmod", path);
  return staged;
}

staging_dir::staging_dir(staging_dir&& o) noexcept
    : path_(std::exchange(o.path_, {})), lock_(std::move(o.lock_)) {}

staging_dir::~staging_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

result<bool> staging_dir::publish(const fs::path& target) {
  BOOST_OUTCOME_TRY(sync_tree(path_));
  if (::rename(path_.c_str(), target.c_str()) != 0) {
    // rename() refuses to replace a non-empty directory, and every template has a /bin/sh.
    if (errno == EEXIST || errno == ENOTEMPTY) return false;
    return sys_fail(errno, "rename {} to {}", path_.string(), target.string());
  }
  path_.clear();
  BOOST_OUTCOME_TRY(sync_path(target.parent_path()));
  return true;
}

result<template_info> publish_template(staging_dir& staged, template_info info) {
  BOOST_OUTCOME_TRY(placed, staged.publish(info.path));
  if (!placed)
    return fail(errc::already_exists, "template '{}' already exists: {}", info.name,
                info.path.string());
  return info;
}

}  // namespace ovz::detail
