#include "kernel/idmap.hpp"

#include "fail.hpp"
#include "kernel/caps.hpp"
#include "kernel/ns_thread.hpp"
#include "kernel/files.hpp"
#include "kernel/raw.hpp"
#include "kernel/sys.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>

#include <sstream>


namespace ovz::detail {
namespace {

std::string map_lines(const std::vector<id_map>& m) {
  std::string s;
  for (const auto& e : m) s += fmt::format("{} {} {}\n", e.inside, e.outside, e.count);
  return s;
}

std::string fs_name(const std::filesystem::path& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return "unknown";
  switch (st.f_type) {
    case TMPFS_MAGIC: return "tmpfs";
    case EXT4_SUPER_MAGIC: return "ext4";
    case XFS_SUPER_MAGIC: return "xfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlay";
    case V9FS_MAGIC: return "9p";
    case RAMFS_MAGIC: return "ramfs";
    case NFS_SUPER_MAGIC: return "nfs";
  }
  return fmt::format("type {:#x}", static_cast<unsigned long>(st.f_type));
}

// fsconfig's refusals carry overlayfs' own explanation on the context fd ("e overlayfs: …").
std::string context_messages(int fs) {
  std::string all;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fs, buf, sizeof buf);
    if (n <= 0) break;
    std::string_view msg(buf, static_cast<std::size_t>(n));
    if (msg.size() > 2 && msg[1] == ' ') msg.remove_prefix(2);
    all += all.empty() ? "" : "; ";
    all += msg;
  }
  return all;
}

// The overlay made by `fs` (an fsopen context with its layers set), detached.
result<unique_fd> overlay_mount(int fs, const std::filesystem::path& upper) {
  if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int err = errno;
    auto why = context_messages(fs);
    return sys_fail(err, "mount an overlay of the template under {}{}", upper.string(),
                    why.empty() ? std::string() : " (" + why + ")");
  }
  unique_fd mnt(::fsmount(fs, FSMOUNT_CLOEXEC, 0));
  if (!mnt) return sys_fail(errno, "fsmount the overlay");
  return mnt;
}

result<unique_fd> open_layer(const std::filesystem::path& dir, const staged_mount& upper_fs) {
  unique_fd fd(upper_fs.fd >= 0
                   ? ::openat(upper_fs.fd, dir.lexically_relative(upper_fs.at).c_str(),
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                   : ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open the overlay layer {}", dir.string());
  return fd;
}

// Linux 6.13 takes overlayfs' layers as open directories (FSCONFIG_SET_FD), a detached mount's
// too: nothing is staged in a mount namespace, whose copy of the host's mount table and its
// teardown cost more than the overlay. None when the kernel cannot.
result<std::optional<unique_fd>> overlay_of_open_layers(int lower,
                                                        const std::filesystem::path& upper,
                                                        const std::filesystem::path& work,
                                                        const staged_mount& upper_fs) {
  unique_fd lower_dir(::openat(lower, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!lower_dir) return sys_fail(errno, "open the template's detached mount");
  unique_fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) return sys_fail(errno, "fsopen overlay");
  if (::fsconfig(fs.get(), FSCONFIG_SET_FD, "lowerdir+", nullptr, lower_dir.get()) != 0) {
    // 6.5 to 6.12 know no descriptor for the key, older ones parse no key but strings.
    if (errno == EINVAL || errno == EOPNOTSUPP) return std::optional<unique_fd>{};
    return sys_fail(errno, "overlay lowerdir+ (the template)");
  }
  for (auto [key, path] : {std::pair{"upperdir", &upper}, {"workdir", &work}}) {
    BOOST_OUTCOME_TRY(dir, open_layer(*path, upper_fs));
    if (::fsconfig(fs.get(), FSCONFIG_SET_FD, key, nullptr, dir.get()) != 0)
      return sys_fail(errno, "overlay {}={}", key, path->string());
  }
  BOOST_OUTCOME_TRY(mnt, overlay_mount(fs.get(), upper));
  return std::optional<unique_fd>(std::move(mnt));
}

// Before Linux 6.13: the layers attached at their paths in a mount namespace of the thread's
// own, which goes away with it.
result<unique_fd> overlay_of_staged_layers(int lower, const std::filesystem::path& stage,
                                           const std::filesystem::path& upper,
                                           const std::filesystem::path& work,
                                           const staged_mount& upper_fs) {
  if (::unshare(CLONE_FS | CLONE_NEWNS) != 0)
    return sys_fail(errno, "unshare a mount namespace for the overlay");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_fail(errno, "make / private in the overlay's mount namespace");
  if (::move_mount(lower, "", AT_FDCWD, stage.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return sys_fail(errno, "attach the template at {}", stage.string());
  if (upper_fs.fd >= 0 &&
      ::move_mount(upper_fs.fd, "", AT_FDCWD, upper_fs.at.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return sys_fail(errno, "attach the VE's disk at {}", upper_fs.at.string());
  unique_fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) return sys_fail(errno, "fsopen overlay");
  for (auto [key, path] : {std::pair{"lowerdir", &stage}, {"upperdir", &upper},
                           {"workdir", &work}}) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, path->c_str(), 0) != 0)
      return sys_fail(errno, "overlay {}={}", key, path->string());
  }
  return overlay_mount(fs.get(), upper);
}

// Runs on a thread of its own.
result<unique_fd> overlay_on_own_thread(int lower, const std::filesystem::path& stage,
                                        const std::filesystem::path& upper,
                                        const std::filesystem::path& work,
                                        const staged_mount& upper_fs) {
  // overlayfs writes to its upper layer with its mounter's credentials: with
  // CAP_SYS_RESOURCE in them, every VE would write past its disk quota (and into the space a
  // host filesystem keeps for root).
  BOOST_OUTCOME_TRY(drop_thread_capability(CAP_SYS_RESOURCE));
  BOOST_OUTCOME_TRY(opened, overlay_of_open_layers(lower, upper, work, upper_fs));
  if (opened) return std::move(*opened);
  return overlay_of_staged_layers(lower, stage, upper, work, upper_fs);
}

}  // namespace

std::optional<std::uint32_t> mapped_id(const std::vector<id_map>& maps, std::uint32_t inside) {
  for (const auto& m : maps)
    if (inside >= m.inside && std::uint64_t{inside} - m.inside < m.count)
      return m.outside + (inside - m.inside);
  return std::nullopt;
}

bool maps_to(const std::vector<id_map>& maps, std::uint32_t outside) {
  for (const auto& m : maps)
    if (outside >= m.outside && std::uint64_t{outside} - m.outside < m.count) return true;
  return false;
}

namespace {

// A child that only exists, in a new user namespace (`join` < 0) or in the one `join` is a
// file of, until end-of-file on `hold_r`; it writes a byte on `ready_w` once there. Returns in
// the parent only.
OVZ_CHILD_CODE pid_t fork_held(int join, int hold_r, int hold_w, int ready_w) noexcept {
  pid_t pid = clone3_fork(join < 0 ? CLONE_NEWUSER : 0, nullptr);
  if (pid != 0) return pid;
  raw::close(hold_w);
  if (join >= 0 && raw::setns(join, CLONE_NEWUSER) != 0) raw::exit_group(errno);
  (void)raw::write(ready_w, "r", 1);
  char c;
  while (raw::read(hold_r, &c, 1) != 0 && errno == EINTR) {
  }
  raw::exit_group(0);
}

// `look` at a child of ours while it is in a user namespace: a new one, or `join`.
template <class Look>
auto with_child_in_userns(int join, const std::string& what, Look look)
    -> decltype(look(pid_t{})) {
  unique_fd hold_r, hold_w, ready_r, ready_w;
  for (auto [r, w] : {std::pair{&hold_r, &hold_w}, {&ready_r, &ready_w}}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return sys_fail(errno, "pipe2");
    r->reset(fds[0]);
    w->reset(fds[1]);
  }
  const pid_t pid = fork_held(join, hold_r.get(), hold_w.get(), ready_w.get());
  if (pid < 0) return sys_fail(errno, "clone a process for {}", what);
  ready_w.reset();
  char c;
  ssize_t n;
  while ((n = ::read(ready_r.get(), &c, 1)) < 0 && errno == EINTR) {
  }
  auto outcome = [&]() -> decltype(look(pid_t{})) {
    if (n == 1) return look(pid);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return sys_fail(WIFEXITED(status) ? WEXITSTATUS(status) : EIO, "{}: setns", what);
  }();
  hold_w.reset();
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return outcome;
}

result<std::vector<id_map>> read_maps(const std::string& path) {
  BOOST_OUTCOME_TRY(text, read_file(path));
  std::vector<id_map> maps;
  std::istringstream lines(text);
  id_map m;
  while (lines >> m.inside >> m.outside >> m.count) maps.push_back(m);
  return maps;
}

}  // namespace

result<unique_fd> userns_with_maps(const std::vector<id_map>& uid_map,
                                   const std::vector<id_map>& gid_map) {
  return with_child_in_userns(-1, "a new user namespace", [&](pid_t pid) -> result<unique_fd> {
    BOOST_OUTCOME_TRY(write_file(fmt::format("/proc/{}/uid_map", pid), map_lines(uid_map)));
    BOOST_OUTCOME_TRY(write_file(fmt::format("/proc/{}/gid_map", pid), map_lines(gid_map)));
    auto path = fmt::format("/proc/{}/ns/user", pid);
    unique_fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) return sys_fail(errno, "open {}", path);
    return ns;
  });
}

result<userns_maps> maps_of_userns(int userns) {
  const int type = ::ioctl(userns, NS_GET_NSTYPE);
  if (type < 0) return sys_fail(errno, "ioctl NS_GET_NSTYPE");
  if (type != CLONE_NEWUSER) return fail(errc::invalid_argument, "not a user namespace");
  // Opened by us, the maps read relative to our (the host's) user namespace.
  return with_child_in_userns(userns, "entering the user namespace",
                              [](pid_t pid) -> result<userns_maps> {
    BOOST_OUTCOME_TRY(uids, read_maps(fmt::format("/proc/{}/uid_map", pid)));
    BOOST_OUTCOME_TRY(gids, read_maps(fmt::format("/proc/{}/gid_map", pid)));
    return userns_maps{std::move(uids), std::move(gids)};
  });
}

result<unique_fd> cloned_tree(const std::filesystem::path& dir) {
  unique_fd tree(::open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) return sys_fail(errno, "open_tree {}", dir.string());
  return tree;
}

result<unique_fd> idmapped_tree(const std::filesystem::path& dir, int userns,
                                std::string_view needed_for, idmap_depth depth) {
  const unsigned recursive = depth == idmap_depth::mount ? 0 : AT_RECURSIVE;
  unique_fd tree(::open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive));
  if (!tree && errno == ENOSYS)
    return fail(errc::unsupported, "this kernel has no open_tree(2) (Linux 5.2), which {}",
                needed_for);
  if (!tree) return sys_fail(errno, "open_tree {}", dir.string());
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<std::uint64_t>(userns);
  const unsigned shifted = depth == idmap_depth::tree ? AT_RECURSIVE : 0;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | shifted, &attr, sizeof attr) != 0) {
    int err = errno;
    if (err == ENOSYS)
      return fail(errc::unsupported,
                  "this kernel has no idmapped mounts (mount_setattr(2), Linux 5.12), which {}",
                  needed_for);
    if (err == EINVAL || err == EPERM || err == EOPNOTSUPP)
      return fail(errc::unsupported,
                  "the {} filesystem of {} cannot be idmapped on this kernel (mount_setattr "
                  "MOUNT_ATTR_IDMAP: {}; ext4, xfs and btrfs can, tmpfs from Linux 6.3), which {}",
                  fs_name(dir), dir.string(), std::strerror(err), needed_for);
    return sys_fail(err, "mount_setattr MOUNT_ATTR_IDMAP on {}", dir.string());
  }
  return tree;
}

result<unique_fd> detached_overlay(unique_fd lower, const std::filesystem::path& stage,
                                   const std::filesystem::path& upper,
                                   const std::filesystem::path& work,
                                   const staged_mount& upper_fs) {
  // Its mount namespace, with the staged layers, goes away with the thread.
  return on_own_thread<unique_fd>("make the overlay", [&] {
    return overlay_on_own_thread(lower.get(), stage, upper, work, upper_fs);
  });
}

}  // namespace ovz::detail
