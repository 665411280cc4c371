#include "kernel/ext4_quota.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/quota.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <ctime>

namespace ovz::detail {
namespace {

// quotactl_fd(2) (Linux 5.14) names the filesystem by a file in it, so the loop device
// need not be a path anyone can open; glibc 2.36 has no wrapper.
int quotactl_fd(int fd, int cmd, quota_kind kind, std::uint32_t id, void* addr) {
  const int type = kind == quota_kind::user ? USRQUOTA
                   : kind == quota_kind::group ? GRPQUOTA : PRJQUOTA;
  return static_cast<int>(::syscall(SYS_quotactl_fd, fd, QCMD(cmd, type), id, addr));
}

const char* name_of(quota_kind kind) {
  return kind == quota_kind::user ? "user" : kind == quota_kind::group ? "group" : "project";
}

id_usage usage_from(const if_nextdqblk& q) {
  return id_usage{.id = q.dqb_id,
                  .kib = (q.dqb_curspace + 1023) / 1024,
                  .inodes = q.dqb_curinodes,
                  .limits = {.kib = {q.dqb_bsoftlimit, q.dqb_bhardlimit},
                             .inodes = {q.dqb_isoftlimit, q.dqb_ihardlimit}},
                  .kib_grace_ends = q.dqb_btime,
                  .inodes_grace_ends = q.dqb_itime};
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

result<id_usage> usage_of(int mount, quota_kind kind, std::uint32_t id) {
  if_nextdqblk q{};
  // if_dqblk is if_nextdqblk without its trailing id.
  if (quotactl_fd(mount, Q_GETQUOTA, kind, id, &q) != 0)
    return sys_fail(errno, "quotactl_fd Q_GETQUOTA of {} {}", name_of(kind), id);
  q.dqb_id = id;
  return usage_from(q);
}

result<std::vector<id_usage>> all_usage_of(int mount, quota_kind kind) {
  std::vector<id_usage> all;
  for (std::uint64_t next = 0; next <= UINT32_MAX;) {
    if_nextdqblk q{};
    if (quotactl_fd(mount, Q_GETNEXTQUOTA, kind, static_cast<std::uint32_t>(next), &q) != 0) {
      if (errno == ENOENT) break;
      return sys_fail(errno, "quotactl_fd Q_GETNEXTQUOTA of {} {}", name_of(kind), next);
    }
    // The kernel lists an id another asked about until its entry is released, which it
    // does later from a work queue: an entry of nothing is nobody's.
    const auto u = usage_from(q);
    if (u.kib || u.inodes || u.limits != id_limits{} || u.kib_grace_ends || u.inodes_grace_ends)
      all.push_back(u);
    next = std::uint64_t{q.dqb_id} + 1;
  }
  return all;
}

result<void> set_id_limits(int mount, quota_kind kind, std::uint32_t id, const id_limits& l) {
  BOOST_OUTCOME_TRY(now, usage_of(mount, kind, id));
  if (now.limits == l) return success();
  if_dqblk q{};
  q.dqb_bsoftlimit = l.kib.soft;  // in the quota's blocks, which are 1 KiB
  q.dqb_bhardlimit = l.kib.hard;
  q.dqb_isoftlimit = l.inodes.soft;
  q.dqb_ihardlimit = l.inodes.hard;
  q.dqb_valid = QIF_LIMITS;
  if (quotactl_fd(mount, Q_SETQUOTA, kind, id, &q) != 0)
    return sys_fail(errno, "quotactl_fd Q_SETQUOTA of {} {}", name_of(kind), id);
  return success();
}

int quotactl_on(int mount, int cmd, quota_kind kind, std::uint32_t id, void* addr) {
  return quotactl_fd(mount, cmd, kind, id, addr) == 0 ? 0 : errno;
}

std::optional<std::uint64_t> grace_left(std::uint64_t ends) {
  if (ends == 0) return std::nullopt;
  const auto now = static_cast<std::uint64_t>(::time(nullptr));
  return ends > now ? ends - now : 0;
}

result<void> set_grace(int mount, quota_kind kind, std::uint64_t seconds) {
  if_dqinfo info{};
  if (quotactl_fd(mount, Q_GETINFO, kind, 0, &info) != 0)
    return sys_fail(errno, "quotactl_fd Q_GETINFO of the {} quota", name_of(kind));
  if (info.dqi_bgrace == seconds && info.dqi_igrace == seconds) return success();
  info = {};
  info.dqi_bgrace = seconds;
  info.dqi_igrace = seconds;
  info.dqi_valid = IIF_BGRACE | IIF_IGRACE;
  if (quotactl_fd(mount, Q_SETINFO, kind, 0, &info) != 0)
    return sys_fail(errno, "quotactl_fd Q_SETINFO of the {} quota", name_of(kind));
  return success();
}

}  // namespace ovz::detail
