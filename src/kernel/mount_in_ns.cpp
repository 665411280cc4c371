#include "kernel/mount_in_ns.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <sstream>

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x4000U  // Linux 6.8
#endif

namespace ovz::detail {
namespace {

struct outcome {
  int err = 0;
  std::uint64_t value = 0;
};

outcome failed() { return {errno ? errno : EIO, 0}; }

// `path` as the caller would walk it from its root and working directory (we are chrooted
// there), except through /proc's magic links, which would lead to our own descriptors.
int resolve(const std::string& path, bool follow) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
  how.resolve = RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
}

bool mount_id(int fd, std::uint64_t& id) {
  struct statx st {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &st) != 0) return false;
  id = st.stx_mnt_id;
  return true;
}

bool set_attrs(int fd, std::uint64_t set, std::uint64_t clr, bool recursive) {
  if (!set && !clr) return true;
  mount_attr attr{};
  attr.attr_set = set;
  attr.attr_clr = clr;
  // The atime modes are one field: naming one replaces the other, and only the whole field
  // may be cleared.
  if ((set | clr) & MOUNT_ATTR__ATIME)
    attr.attr_clr = (attr.attr_clr & ~std::uint64_t{MOUNT_ATTR__ATIME}) | MOUNT_ATTR__ATIME;
  return ::mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                         sizeof attr) == 0;
}

bool configure(int fs, const fs_options& options) {
  for (const auto& [key, value] : options) {
    const int rc = value.empty()
                       ? ::fsconfig(fs, FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                       : ::fsconfig(fs, FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    if (rc != 0) return false;
  }
  return true;
}

outcome attach(int mnt, const std::string& target) {
  unique_fd at(resolve(target, true));
  if (!at) return failed();
  if (::move_mount(mnt, "", at.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return failed();
  outcome o;
  if (!mount_id(mnt, o.value)) return failed();
  return o;
}

// Runs `work` in a child of ours inside the caller's mount namespace (and `extra_ns`), at the
// caller's root and working directory; its errno or value comes back over a pipe. We are the
// single-threaded monitor, so the child may allocate.
template <class Work>
result<std::uint64_t> in_caller_ns(const mount_site& site, int extra_ns, Work&& work,
                                   const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_fail(errno, "pipe2 for {}", what);
  unique_fd r(fds[0]), w(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail(errno, "fork for {}", what);
  if (pid == 0) {
    r.reset();
    outcome o;
    if (::setns(site.pidfd, CLONE_NEWNS | extra_ns) != 0 || ::fchdir(site.root) != 0 ||
        ::chroot(".") != 0 || ::fchdir(site.cwd) != 0)
      o = failed();
    else
      o = work();
    (void)!::write(w.get(), &o, sizeof o);
    ::_exit(0);
  }
  w.reset();
  outcome o{EIO, 0};
  ssize_t n;
  do {
    n = ::read(r.get(), &o, sizeof o);
  } while (n < 0 && errno == EINTR);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof o) return fail(errc::child_failed, "{}: the helper process died", what);
  if (o.err) return sys_fail(o.err, "{}", what);
  return o.value;
}

}  // namespace

result<std::uint64_t> mount_new_fs(const mount_site& site, const std::string& target,
                                   const std::string& fstype, const fs_options& options,
                                   std::uint64_t attrs, int extra_ns) {
  return in_caller_ns(
      site, extra_ns,
      [&]() -> outcome {
        unique_fd fs(::fsopen(fstype.c_str(), FSOPEN_CLOEXEC));
        if (!fs || !configure(fs.get(), options) ||
            ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
          return failed();
        unique_fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs)));
        if (!mnt) return failed();
        return attach(mnt.get(), target);
      },
      fmt::format("mount {} on {}", fstype, target));
}

result<std::uint64_t> mount_copy(const mount_site& site, const std::string& target,
                                 const std::string& source, std::uint64_t attrs) {
  return in_caller_ns(
      site, 0,
      [&]() -> outcome {
        open_how how{};
        how.flags = O_PATH | O_CLOEXEC | O_DIRECTORY;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
        unique_fd from(static_cast<int>(
            ::syscall(SYS_openat2, site.source, source.c_str(), &how, sizeof how)));
        if (!from) return failed();
        // Recursive, so that what covers parts of it (the masks over /proc's files, the
        // read-only /proc/sys) comes along; each mount keeps its flags.
        unique_fd tree(::open_tree(from.get(), "",
                                   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                       AT_EMPTY_PATH));
        if (!tree || !set_attrs(tree.get(), attrs, 0, true)) return failed();
        return attach(tree.get(), target);
      },
      fmt::format("mount a copy of /{} on {}", source, target));
}

result<void> remount_own(const mount_site& site, const std::string& target,
                         const fs_options& options, std::uint64_t attr_set,
                         std::uint64_t attr_clr, const mount_filter& own) {
  auto done = in_caller_ns(
      site, 0,
      [&]() -> outcome {
        unique_fd at(resolve(target, true));
        std::uint64_t id = 0;
        if (!at || !mount_id(at.get(), id)) return failed();
        if (!own(id)) return {EPERM, 0};
        if (!options.empty()) {
          unique_fd fs(::fspick(at.get(), "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC));
          if (!fs || !configure(fs.get(), options) ||
              ::fsconfig(fs.get(), FSCONFIG_CMD_RECONFIGURE, nullptr, nullptr, 0) != 0)
            return failed();
        }
        if (!set_attrs(at.get(), attr_set, attr_clr, false)) return failed();
        return {};
      },
      fmt::format("remount {}", target));
  if (!done) return done.error();
  return success();
}

result<std::uint64_t> unmount_own(const mount_site& site, const std::string& target,
                                  bool follow, const mount_filter& own) {
  return in_caller_ns(
      site, 0,
      [&]() -> outcome {
        unique_fd at(resolve(target, follow));
        std::uint64_t id = 0;
        if (!at || !mount_id(at.get(), id)) return failed();
        if (!own(id)) return {EPERM, 0};
        // The mount we checked, not whatever the path names by now: from inside it. Lazily,
        // as our own working directory is in it; the kernel refuses a path that is not the
        // mount's root (EINVAL).
        if (::fchdir(at.get()) != 0 || ::umount2(".", MNT_DETACH) != 0) return failed();
        return {0, id};
      },
      fmt::format("unmount {}", target));
}

result<std::uint64_t> tmpfs_mount_at(int root, const std::string& path) {
  BOOST_OUTCOME_TRY(at, open_below(root, path, O_PATH | O_DIRECTORY,
                                   RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS));
  unique_fd parent(::openat(at.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct statfs fs {};
  std::uint64_t id = 0, parent_id = 0;
  if (!parent || ::fstatfs(at.get(), &fs) != 0 || !mount_id(at.get(), id) ||
      !mount_id(parent.get(), parent_id))
    return sys_fail(errno, "look at the mount on {}", path);
  if (fs.f_type != TMPFS_MAGIC || id == parent_id)
    return fail(errc::not_found, "no tmpfs is mounted on {}", path);
  return id;
}

result<std::vector<std::uint64_t>> mount_ids_seen_by(int pid) {
  BOOST_OUTCOME_TRY(text, read_file(fmt::format("/proc/{}/mountinfo", pid)));
  std::vector<std::uint64_t> ids;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::uint64_t id = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), id).ec == std::errc())
      ids.push_back(id);
  }
  return ids;
}

bool mount_ids_unique() {
  struct statx st {};
  return ::statx(AT_FDCWD, "/", 0, STATX_MNT_ID_UNIQUE, &st) == 0 &&
         (st.stx_mask & STATX_MNT_ID_UNIQUE);
}

}  // namespace ovz::detail
