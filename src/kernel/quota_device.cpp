#include "kernel/quota_device.hpp"

#include <ovz/fd.hpp>

#include "fail.hpp"
#include "kernel/caps.hpp"
#include "kernel/ns_thread.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ovz::detail {
namespace {

constexpr const char* node_name = quota_device_path + 1;  // "dev/root", below a root

// A mount's name is the source it was made from as text: to name the disk /dev/root, the
// thread mounts it where /dev/root is the disk, a tmpfs of its own it has chrooted into.
result<unique_fd> disk_named_root(dev_t disk, const std::string& loop_device) {
  if (::unshare(CLONE_FS | CLONE_NEWNS) != 0)
    return sys_fail(errno, "unshare a mount namespace to name the disk");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_fail(errno, "make / private in that namespace");
  unique_fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs || ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return sys_fail(errno, "mount a tmpfs to name the disk");
  unique_fd scratch(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!scratch) return sys_fail(errno, "fsmount that tmpfs");
  if (::mkdirat(scratch.get(), "dev", 0755) != 0 ||
      ::mknodat(scratch.get(), node_name, S_IFBLK | 0600, disk) != 0)
    return sys_fail(errno, "make {} for {}", quota_device_path, loop_device);
  if (::fchdir(scratch.get()) != 0 || ::chroot(".") != 0)
    return sys_fail(errno, "chroot into that tmpfs");
  unique_fd ext4(::fsopen("ext4", FSOPEN_CLOEXEC));
  if (!ext4) return sys_fail(errno, "fsopen ext4");
  // The disk is mounted already (the VE's root is on it): this takes the same superblock.
  if (::fsconfig(ext4.get(), FSCONFIG_SET_STRING, "source", quota_device_path, 0) != 0 ||
      ::fsconfig(ext4.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return sys_fail(errno, "mount the ext4 on {} as {}", loop_device, quota_device_path);
  unique_fd mnt(::fsmount(ext4.get(), FSMOUNT_CLOEXEC,
                          MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                              MOUNT_ATTR_NOEXEC));
  if (!mnt) return sys_fail(errno, "fsmount the ext4 on {}", loop_device);
  return mnt;
}

result<void> show_in(int ve_ns, dev_t disk, const std::string& loop_device) {
  BOOST_OUTCOME_TRY(mnt, disk_named_root(disk, loop_device));
  // Into the VE's mount namespace: root and working directory become its root.
  if (::setns(ve_ns, CLONE_NEWNS) != 0)
    return sys_fail(errno, "join the VE's mount namespace");
  struct stat root {}, dev {};
  if (::stat("/", &root) != 0 || ::stat("/dev", &dev) != 0)
    return sys_fail(errno, "stat the VE's root and /dev");
  // Its root's, as the rest of its /dev: a VE in a user namespace has its /dev in it.
  BOOST_OUTCOME_TRY(create_files_as(dev.st_uid, dev.st_gid));
  if (::unlink(quota_device_path) != 0 && errno != ENOENT)
    return sys_fail(errno, "remove the VE's {}", quota_device_path);
  if (::mknod(quota_device_path, S_IFBLK | 0600, root.st_dev) != 0)
    return sys_fail(errno, "make the VE's {}", quota_device_path);
  if (::move_mount(mnt.get(), "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return sys_fail(errno, "mount {} over the VE's root", quota_device_path);
  return success();
}

}  // namespace

result<void> show_quota_device(pid_t init, const std::string& loop_device) {
  struct stat dev {};
  if (::stat(loop_device.c_str(), &dev) != 0) return sys_fail(errno, "stat {}", loop_device);
  if (!S_ISBLK(dev.st_mode)) return sys_fail(ENOTBLK, "{}", loop_device);
  unique_fd ns(::open(fmt::format("/proc/{}/ns/mnt", init).c_str(), O_RDONLY | O_CLOEXEC));
  // An init that has ended already (a command run as one) has nothing to show it to.
  if (!ns && (errno == ENOENT || errno == ESRCH)) return success();
  if (!ns) return sys_fail(errno, "open the mount namespace of PID {}", init);
  return on_own_thread<void>("show the VE its disk's quota", [&] {
    return show_in(ns.get(), dev.st_rdev, loop_device);
  });
}

}  // namespace ovz::detail
