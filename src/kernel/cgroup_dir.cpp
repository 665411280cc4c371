#include "kernel/cgroup_dir.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace ovz::detail {

result<cgroup_dir> cgroup_dir::open(std::string path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", path);
  return cgroup_dir(std::move(fd), std::move(path));
}

result<cgroup_dir> cgroup_dir::child(const std::string& name) const {
  // O_NOFOLLOW: cgroupfs has no symlinks; anything else is not a cgroup.
  unique_fd fd(::openat(fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", file(name));
  return cgroup_dir(std::move(fd), file(name));
}

result<std::vector<std::string>> cgroup_dir::children() const {
  // A descriptor of its own: readdir moves the offset of the one it reads.
  int listing = ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) return sys_fail(errno, "open {}", path_);
  DIR* d = ::fdopendir(listing);
  if (!d) {
    int err = errno;
    ::close(listing);
    return sys_fail(err, "fdopendir {}", path_);
  }
  std::vector<std::string> names;
  errno = 0;
  while (auto* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err) return sys_fail(err, "readdir {}", path_);
  std::sort(names.begin(), names.end());
  return names;
}

std::string cgroup_dir::file(std::string_view name) const {
  std::string f = path_;
  f += '/';
  f += name;
  return f;
}

bool cgroup_dir::has(const char* name) const noexcept {
  if (holding_) {
    auto h = held(name);
    return h && (*h)->fd;
  }
  return ::faccessat(fd_.get(), name, F_OK, 0) == 0;
}

result<const cgroup_dir::held_file*> cgroup_dir::held(const char* name) const {
  // A reader asks for the same files in the same order each time: the search starts after
  // the file found last, where the one asked for now is.
  for (std::size_t i = 0, n = held_.size(); i < n; ++i) {
    const auto at = (next_ + i) % n;
    if (held_[at].name == name) {
      next_ = at + 1;
      return &held_[at];
    }
  }
  unique_fd fd(::openat(fd_.get(), name, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  // A cgroup's files are there from its mkdir to its rmdir (the manager enables a VE's
  // controllers before it starts), so one missing stays missing while the directory is held.
  // Any other failure (EMFILE) is no answer and is not kept.
  if (!fd && errno != ENOENT) return sys_fail(errno, "open {}", file(name));
  next_ = held_.size() + 1;
  return &held_.emplace_back(held_file{name, std::move(fd)});
}

result<std::string> cgroup_dir::read(const char* name) const {
  if (!holding_) return read_file_at(fd_.get(), name, file(name));
  BOOST_OUTCOME_TRY(h, held(name));
  if (!h->fd) return sys_fail(ENOENT, "open {}", file(name));
  return reread_file(h->fd.get(), file(name));
}

result<void> cgroup_dir::write(const char* name, std::string_view value) const {
  return write_file_at(fd_.get(), name, file(name), value);
}

const cgroup_dir* ve_cgroup::with(std::string_view controller) const noexcept {
  for (const auto& h : dirs)
    if (h.controllers.empty() ||
        std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end())
      return &h.dir;
  return nullptr;
}

}  // namespace ovz::detail
