#include "kernel/ext4_image.hpp"

#include "fail.hpp"
#include "kernel/caps.hpp"
#include "kernel/ext4_quota.hpp"
#include "kernel/files.hpp"
#include "kernel/host_tool.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/types.h>

#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

// Not in the kernel's uapi headers: fs/ext4/ext4.h.
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, __u64)
#endif

namespace ovz::detail {
namespace {

constexpr std::uint64_t block_kib = 4;  // the images' ext4 block: 4 KiB

// e2fsprogs' tools live in sbin, which an embedding program's PATH may lack.
result<std::string> e2fs_tool(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/"}) {
    std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return fail(errc::unsupported, "{} is not in /usr/sbin or /sbin: a VE's disk image needs "
                                 "e2fsprogs installed", name);
}

result<void> resize_image(const std::filesystem::path& image, std::uint64_t kib) {
  if (::truncate(image.c_str(), static_cast<off_t>(kib * 1024)) != 0)
    return sys_fail(errno, "truncate {} to {} KiB", image.string(), kib);
  return success();
}

// e2fsck -p's status 1: errors it corrected, which leave the filesystem clean.
result<void> check_ext4(const std::filesystem::path& image) {
  BOOST_OUTCOME_TRY(fsck, e2fs_tool("e2fsck"));
  auto checked = run_tool({fsck, "-f", "-p", image.string()}, capture::out_and_err, 1);
  if (!checked) return with_context(checked.error(), "check the ext4 in " + image.string());
  return success();
}

}  // namespace

result<void> make_ext4_image(const std::filesystem::path& image, std::uint64_t kib,
                             std::uint64_t inodes, uid_t owner, bool quota) {
  BOOST_OUTCOME_TRY(mkfs, e2fs_tool("mkfs.ext4"));
  {
    unique_fd fd(::open(image.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return sys_fail(errno, "create {}", image.string());
  }
  BOOST_OUTCOME_TRY(resize_image(image, kib));
  // The image is sparse, so its unwritten inode tables and journal already read as zeros:
  // neither mkfs nor the kernel needs to write them (which would fill the image).
  // Empty: mke2fs 1.47.0's -d leaves what it copies out of the quota it counts, which would
  // take an e2fsck to correct; the first mount makes the directories instead.
  std::string extended = fmt::format(
      "lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner={}:{}", owner, owner);
  std::vector<std::string> argv = {mkfs, "-q", "-F", "-b", "4096", "-m", "0"};
  if (quota) {
    // Usage kept by the kernel from the start (hidden quota inodes, no quotacheck ever).
    extended += ",quotatype=usrquota:grpquota:prjquota";
    argv.insert(argv.end(), {"-O", "quota,project"});
  }
  argv.insert(argv.end(), {"-E", extended});
  if (inodes > 0) {
    argv.push_back("-N");
    argv.push_back(std::to_string(inodes));
  }
  argv.push_back(image.string());
  auto made = run_tool(argv, capture::out_and_err);
  if (!made) return with_context(made.error(), "make the ext4 in " + image.string());
  return success();
}

result<unique_fd> mount_ext4(const loop_binding& loop, const std::filesystem::path& image) {
  unique_fd fs(::fsopen("ext4", FSOPEN_CLOEXEC));
  if (!fs) return sys_fail(errno, "fsopen ext4");
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", loop.device.c_str(), 0) != 0)
    return sys_fail(errno, "ext4 source={}", loop.device);
  // noinit_itable: see make_ext4_image. discard: space freed inside is freed in the image.
  // The quota options make the kernel enforce the limits it counts usage against.
  const auto features = quota_features_of(image);
  std::vector<const char*> flags = {"noinit_itable", "discard"};
  if (!features.empty()) flags.insert(flags.end(), {"usrquota", "grpquota", "prjquota"});
  for (const char* flag : flags) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, flag, nullptr, 0) != 0)
      return sys_fail(errno, "ext4 option {}", flag);
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    const int err = errno;
    if (!features.empty() && !kernel_has_quota_format())
      return fail(errc::unsupported,
                  "{} has ext4's {} feature: it was made where the kernel keeps disk quota, "
                  "and this kernel has no quota format (CONFIG_QFMT_V2, module quota_v2) to "
                  "mount it read-write ({})",
                  image.string(), features, std::strerror(err));
    return sys_fail(err, "mount the ext4 in {} ({})", image.string(), loop.device);
  }
  unique_fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) return sys_fail(errno, "fsmount the ext4 in {}", image.string());
  return mnt;
}

result<void> grow_ext4(int mount, const loop_binding& loop, const std::filesystem::path& image,
                       std::uint64_t kib) {
  // The kernel checks it only at the ioctl, after the image would have grown.
  if (!has_effective_capability(CAP_SYS_RESOURCE))
    return fail(errc::unsupported,
                "growing the mounted ext4 in {} needs CAP_SYS_RESOURCE (EXT4_IOC_RESIZE_FS), "
                "which this process has not: grow it while nothing has it mounted",
                image.string());
  struct stat st {};
  if (::stat(image.c_str(), &st) != 0) return sys_fail(errno, "stat {}", image.string());
  BOOST_OUTCOME_TRY(resize_image(image, kib));
  auto grown = [&]() -> result<void> {
    BOOST_OUTCOME_TRY(refresh_loop_capacity(loop));
    unique_fd root(::openat(mount, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) return sys_fail(errno, "open the root of the ext4 in {}", image.string());
    __u64 blocks = kib / block_kib;
    if (::ioctl(root.get(), EXT4_IOC_RESIZE_FS, &blocks) != 0)
      return sys_fail(errno, "EXT4_IOC_RESIZE_FS of {} to {} KiB", image.string(), kib);
    return success();
  }();
  if (!grown && ::truncate(image.c_str(), st.st_size) == 0)
    (void)refresh_loop_capacity(loop);
  return grown;
}

result<void> resize_ext4_image(const std::filesystem::path& image, std::uint64_t kib) {
  BOOST_OUTCOME_TRY(resize2fs, e2fs_tool("resize2fs"));
  struct stat st {};
  if (::stat(image.c_str(), &st) != 0) return sys_fail(errno, "stat {}", image.string());
  const bool grows = kib * 1024 > static_cast<std::uint64_t>(st.st_size);
  // resize2fs works only on a filesystem e2fsck has just found clean.
  BOOST_OUTCOME_TRY(check_ext4(image));
  if (grows) {
    BOOST_OUTCOME_TRY(resize_image(image, kib));
  }
  auto resized = run_tool({resize2fs, image.string(), std::to_string(kib) + "K"},
                          capture::out_and_err);
  if (!resized) {
    if (grows) (void)::truncate(image.c_str(), st.st_size);
    return with_context(resized.error(), "resize the ext4 in " + image.string());
  }
  return grows ? success() : resize_image(image, kib);
}

result<fs_counts> counts_of(int mount) {
  struct statfs st {};
  if (::fstatfs(mount, &st) != 0) return sys_fail(errno, "fstatfs");
  const auto kib = static_cast<std::uint64_t>(st.f_bsize) / 1024;
  return fs_counts{.kib_total = st.f_blocks * kib,
                   .kib_used = (st.f_blocks - st.f_bfree) * kib,
                   .inodes_total = st.f_files,
                   .inodes_used = st.f_files - st.f_ffree};
}

bool kernel_has_quota_format() {
  if (std::filesystem::exists("/sys/module/quota_v2")) return true;
  struct utsname u {};
  if (::uname(&u) != 0) return false;
  const std::string dir = std::string("/lib/modules/") + u.release + "/";
  for (const char* index : {"modules.builtin", "modules.dep"}) {
    auto text = read_file(dir + index);
    if (text && text->find("/quota_v2.ko") != std::string::npos) return true;
  }
  return false;
}

}  // namespace ovz::detail
