#include "ve/quota_broker.hpp"

#include <ovz/config.hpp>
#include <ovz/ve_params.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/ext4_image.hpp"
#include "kernel/ext4_quota.hpp"
#include "kernel/files.hpp"
#include "kernel/loop_device.hpp"
#include "model/id_range.hpp"
#include "ve/ugid_quota.hpp"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace ovz::detail {
namespace {

template <class T>
std::optional<T> read_struct(pid_t pid, std::uint64_t address) {
  auto bytes = read_caller_bytes(pid, address, sizeof(T));
  if (!bytes) return std::nullopt;
  T out;
  std::memcpy(&out, bytes->data(), sizeof out);
  return out;
}

template <class T>
int write_struct(const quotactl_caller& c, std::uint64_t address, const T& value) {
  return write_caller_bytes(c.mem, address, &value, sizeof value) ? 0 : EFAULT;
}

// The device a call names, found as the caller finds it (from its root, or from its working
// directory without climbing above it), must be the node the VE was shown: a block device
// numbered as its root's device.
int names_the_disk(const std::string& special, const quotactl_caller& c) {
  if (special.empty()) return ENOENT;
  const bool absolute = special.front() == '/';
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_MAGICLINKS | (absolute ? RESOLVE_IN_ROOT : RESOLVE_BENEATH);
  unique_fd node(static_cast<int>(
      ::syscall(SYS_openat2, absolute ? c.root : c.cwd, special.c_str(), &how, sizeof how)));
  if (!node) return errno == EXDEV ? ENOENT : errno;
  struct stat st {}, root {};
  if (::fstat(node.get(), &st) != 0 || ::fstat(c.root, &root) != 0) return errno;
  if (!S_ISBLK(st.st_mode)) return ENOTBLK;
  return st.st_rdev == root.st_dev ? 0 : ENODEV;
}

quota_kind kind_of(std::uint32_t type) {
  return type == USRQUOTA ? quota_kind::user : quota_kind::group;
}

}  // namespace

int quota_broker::answer(const syscall_notice& n, const quotactl_caller& c) {
  const auto cmd = static_cast<std::uint32_t>(n.args[0]);
  const std::uint32_t sub = cmd >> SUBCMDSHIFT, type = cmd & SUBCMDMASK;
  if (type != USRQUOTA && type != GRPQUOTA && type != PRJQUOTA) return EINVAL;
  // Q_SYNC without a device syncs every disk's quota: this VE has one.
  if (n.args[1] == 0 && sub != Q_SYNC) return EFAULT;
  if (n.args[1] != 0) {
    auto special = read_caller_string(n.pid, n.args[1], PATH_MAX);
    if (!special) return EFAULT;
    if (int err = names_the_disk(*special, c)) return err;
  }
  // The project quota is the host's, and a disk without the user and group quota has none:
  // "no quota on this disk", as the kernel says it.
  if (type == PRJQUOTA) return ESRCH;
  if (!disk_) {
    if (quota_features_of(paths_.disk_image).find("quota") != 0) return ESRCH;
    auto opened = [&]() -> result<void> {
      BOOST_OUTCOME_TRY(loop, bind_loop(paths_.disk_image));
      BOOST_OUTCOME_TRY(mount, mount_ext4(loop, paths_.disk_image));
      struct stat st {};
      if (::fstatat(mount.get(), "fs", &st, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_fail(errno, "stat fs in {}", paths_.disk_image.string());
      base_ = st.st_uid;
      disk_ = mounted_disk{std::move(loop), std::move(mount), true};
      return success();
    }();
    // The VE's tools say only ESRCH ("no quota"): the reason goes to its console log.
    if (!opened) {
      log(log_level::warning, fmt::format("quotactl of VE {}: {}", paths_.id.value(),
                                          opened.error().message()));
      return ESRCH;
    }
  }
  return on_disk(n, c, disk_->mount.get());
}

int quota_broker::on_disk(const syscall_notice& n, const quotactl_caller& c, int disk) {
  const auto cmd = static_cast<std::uint32_t>(n.args[0]);
  const std::uint32_t sub = cmd >> SUBCMDSHIFT, type = cmd & SUBCMDMASK;
  // Credentials as the host sees them: the VE's ids are stored from base_.
  const bool admin = c.creds.euid == base_;
  switch (sub) {
    case Q_SYNC:
      return quotactl_on(disk, Q_SYNC, kind_of(type), 0, nullptr);
    case Q_GETFMT: {
      std::uint32_t format = 0;
      if (int err = quotactl_on(disk, Q_GETFMT, kind_of(type), 0, &format)) return err;
      return write_struct(c, n.args[3], format);
    }
    case Q_GETINFO: {
      if_dqinfo info{};
      if (int err = quotactl_on(disk, Q_GETINFO, kind_of(type), 0, &info)) return err;
      return write_struct(c, n.args[3], info);
    }
    case Q_GETQUOTA:
    case Q_GETNEXTQUOTA: {
      const auto id = static_cast<std::uint32_t>(n.args[2]);
      // Anyone may read their own; their users' and groups', the VE's root only.
      const bool own = sub == Q_GETQUOTA && (type == USRQUOTA ? base_ + id == c.creds.euid
                                                              : c.creds.in_group(base_ + id));
      if (!admin && !own) return EPERM;
      return get_quota(n, c, disk, sub == Q_GETNEXTQUOTA);
    }
    case Q_SETQUOTA:
      return admin ? set_quota(n, disk) : EPERM;
    case Q_SETINFO:
      return admin ? set_info(n, disk) : EPERM;
    case Q_QUOTAON:
      // Kept by the disk (ext4's quota feature) from its mount on: on already.
      return admin ? EBUSY : EPERM;
    case Q_QUOTAOFF:
      return EPERM;
    default:
      return EINVAL;
  }
}

int quota_broker::get_quota(const syscall_notice& n, const quotactl_caller& c, int disk,
                            bool next) {
  const auto id = static_cast<std::uint32_t>(n.args[2]);
  const auto kind = kind_of(static_cast<std::uint32_t>(n.args[0]) & SUBCMDMASK);
  if (base_ != 0 && id >= ve_id_count) return EINVAL;  // unmapped, as the kernel says it
  if (!next) {
    if_dqblk q{};
    if (int err = quotactl_on(disk, Q_GETQUOTA, kind, base_ + id, &q)) return err;
    return write_struct(c, n.args[3], q);
  }
  if_nextdqblk q{};
  if (int err = quotactl_on(disk, Q_GETNEXTQUOTA, kind, base_ + id, &q)) return err;
  // Past the VE's ids: the end, as the kernel says it.
  const auto inside = id_inside(base_, q.dqb_id);
  if (!inside) return ENOENT;
  q.dqb_id = *inside;
  return write_struct(c, n.args[3], q);
}

int quota_broker::set_quota(const syscall_notice& n, int disk) {
  const auto id = static_cast<std::uint32_t>(n.args[2]);
  const auto kind = kind_of(static_cast<std::uint32_t>(n.args[0]) & SUBCMDMASK);
  auto wanted = read_struct<if_dqblk>(n.pid, n.args[3]);
  if (!wanted) return EFAULT;
  // Usage is the kernel's count, not the VE's to set.
  if (wanted->dqb_valid & (QIF_SPACE | QIF_INODES)) return EPERM;
  if (base_ != 0 && id >= ve_id_count) return EINVAL;  // unmapped, as the kernel says it
  // Limits first: a refused owner must leave no entry behind, which setting its grace
  // times would write to the disk's quota file.
  if (wanted->dqb_valid & QIF_LIMITS) {
    auto now = usage_of(disk, kind, base_ + id);
    if (!now) return now.error().sys_errno() ? now.error().sys_errno() : EIO;
    id_limits limits = now->limits;
    if (wanted->dqb_valid & QIF_BLIMITS)
      limits.kib = {wanted->dqb_bsoftlimit, wanted->dqb_bhardlimit};
    if (wanted->dqb_valid & QIF_ILIMITS)
      limits.inodes = {wanted->dqb_isoftlimit, wanted->dqb_ihardlimit};
    auto conf = ve_config::load(paths_.conf);
    auto params = conf ? params_from_config(*conf) : result<ve_params>(conf.error());
    if (!params) return EIO;
    // Over QUOTAUGIDLIMIT owners with limits: the kernel's word for running out of quota
    // structures.
    auto set = set_owner_limits(disk, kind, base_, id, params->disk.quotaugidlimit.value_or(0),
                                limits);
    if (!set) return set.error().sys_errno() ? set.error().sys_errno() : ENOSPC;
  }
  if (wanted->dqb_valid & QIF_TIMES) {
    if_dqblk times{};
    times.dqb_btime = wanted->dqb_btime;
    times.dqb_itime = wanted->dqb_itime;
    times.dqb_valid = wanted->dqb_valid & QIF_TIMES;
    return quotactl_on(disk, Q_SETQUOTA, kind, base_ + id, &times);
  }
  return 0;
}

int quota_broker::set_info(const syscall_notice& n, int disk) {
  auto wanted = read_struct<if_dqinfo>(n.pid, n.args[3]);
  if (!wanted) return EFAULT;
  // The grace times; the flags are the disk's.
  if (wanted->dqi_valid & IIF_FLAGS) return EPERM;
  const auto kind = kind_of(static_cast<std::uint32_t>(n.args[0]) & SUBCMDMASK);
  return quotactl_on(disk, Q_SETINFO, kind, 0, &*wanted);
}

}  // namespace ovz::detail
