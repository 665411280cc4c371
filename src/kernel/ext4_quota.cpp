#include "kernel/ext4_quota.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/fs.h>

#include <array>

namespace ovz::detail {
namespace {

// quotactl_fd(2) (Linux 5.14) names the filesystem by a file in it, so the loop device
// need not be a path anyone can open; glibc 2.36 has no wrapper.
int quotactl_fd(int fd, int cmd, std::uint32_t id, void* addr) {
  return static_cast<int>(::syscall(SYS_quotactl_fd, fd, QCMD(cmd, PRJQUOTA), id, addr));
}

}  // namespace

std::string quota_features_of(const std::filesystem::path& image) {
  unique_fd fd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
  std::array<unsigned char, 1024> sb{};
  if (!fd || ::pread(fd.get(), sb.data(), sb.size(), 1024) != static_cast<ssize_t>(sb.size()))
    return {};
  auto le16 = [&](std::size_t at) { return sb[at] | sb[at + 1] << 8; };
  auto le32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(le16(at)) | static_cast<std::uint32_t>(le16(at + 2)) << 16;
  };
  if (le16(0x38) != 0xEF53) return {};
  // s_feature_ro_compat: EXT4_FEATURE_RO_COMPAT_QUOTA and _PROJECT.
  const std::uint32_t ro_compat = le32(0x64);
  std::string names;
  if (ro_compat & 0x100) names = "quota";
  if (ro_compat & 0x2000) names += names.empty() ? "project" : " and project";
  return names;
}

result<void> tag_project(int dir, const std::string& what) {
  struct fsxattr attr {};
  if (::ioctl(dir, FS_IOC_FSGETXATTR, &attr) != 0)
    return sys_fail(errno, "FS_IOC_FSGETXATTR of {}", what);
  if (attr.fsx_projid == ve_project && (attr.fsx_xflags & FS_XFLAG_PROJINHERIT)) return success();
  attr.fsx_projid = ve_project;
  attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
  if (::ioctl(dir, FS_IOC_FSSETXATTR, &attr) != 0)
    return sys_fail(errno, "put {} in project {} (FS_IOC_FSSETXATTR)", what, ve_project);
  return success();
}

result<project_usage> project_usage_of(int mount) {
  struct dqblk q {};
  if (quotactl_fd(mount, Q_GETQUOTA, ve_project, &q) != 0)
    return sys_fail(errno, "quotactl_fd Q_GETQUOTA of project {}", ve_project);
  struct dqinfo info {};
  if (quotactl_fd(mount, Q_GETINFO, 0, &info) != 0)
    return sys_fail(errno, "quotactl_fd Q_GETINFO of the project quota");
  return project_usage{
      .kib = (q.dqb_curspace + 1023) / 1024,
      .inodes = q.dqb_curinodes,
      .limits = {.kib = {q.dqb_bsoftlimit, q.dqb_bhardlimit},
                 .inodes = {q.dqb_isoftlimit, q.dqb_ihardlimit},
                 .grace = info.dqi_bgrace},
      .kib_grace_ends = q.dqb_btime,
      .inodes_grace_ends = q.dqb_itime};
}

namespace {

result<void> set_grace(int mount, const project_usage& now, const project_limits& l) {
  if (now.limits.grace == l.grace) return success();
  struct dqinfo info {};
  info.dqi_bgrace = l.grace;
  info.dqi_igrace = l.grace;
  info.dqi_valid = IIF_BGRACE | IIF_IGRACE;
  if (quotactl_fd(mount, Q_SETINFO, 0, &info) != 0)
    return sys_fail(errno, "quotactl_fd Q_SETINFO of the project quota");
  return success();
}

}  // namespace

// Only what differs is set: setting a limit restarts the grace time of a soft limit the VE
// is over, and the disk is mounted at every start and every quota().
result<void> set_project_limits(int mount, const project_limits& l) {
  BOOST_OUTCOME_TRY(now, project_usage_of(mount));
  if (now.limits.kib == l.kib && now.limits.inodes == l.inodes) return set_grace(mount, now, l);
  struct dqblk q {};
  q.dqb_bsoftlimit = l.kib.soft;  // in the quota's blocks, which are 1 KiB
  q.dqb_bhardlimit = l.kib.hard;
  q.dqb_isoftlimit = l.inodes.soft;
  q.dqb_ihardlimit = l.inodes.hard;
  q.dqb_valid = QIF_LIMITS;
  if (quotactl_fd(mount, Q_SETQUOTA, ve_project, &q) != 0)
    return sys_fail(errno, "quotactl_fd Q_SETQUOTA of project {}", ve_project);
  return set_grace(mount, now, l);
}

}  // namespace ovz::detail
