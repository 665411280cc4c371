#pragma once
// The quotactl(2) calls of a VE's processes, which its seccomp filter hands to its monitor,
// answered from the user and group quota of the VE's disk as the kernel answers them on a
// disk of one's own: the stock quota tools (quota, repquota, setquota, edquota) work on the
// device the VE was shown (kernel/quota_device.hpp), in the VE's ids. The VE's root
// (effective uid 0, the VE's administrator; it has no CAP_SYS_ADMIN) reads and sets every
// user's and group's limits, up to QUOTAUGIDLIMIT of them; anyone reads their own. The VE's
// project quota is the host's (DISKSPACE): the VE is told it is off.

#include <ovz/fd.hpp>

#include "kernel/proc_creds.hpp"
#include "kernel/seccomp_notify.hpp"
#include "model/layout.hpp"
#include "ve/storage.hpp"

#include <optional>

namespace ovz::detail {

/// The caller of one quotactl, held open before its call was checked to be waiting still.
struct quotactl_caller {
  pid_t pid = 0;
  int root = -1;  // O_PATH: its root directory
  int cwd = -1;   // O_PATH: its working directory
  int mem = -1;   // its /proc/PID/mem, for the answers that fill a buffer
  proc_creds creds;
};

class quota_broker {
 public:
  explicit quota_broker(ve_paths l) : paths_(std::move(l)) {}

  /// What the call gets: 0 (done) or an errno.
  int answer(const syscall_notice& n, const quotactl_caller& caller);
  /// Lets the VE's disk go, which the monitor held since the first call: the VE has stopped
  /// and its clean-up unbinds the disk.
  void release() { disk_.reset(); }

 private:
  int on_disk(const syscall_notice& n, const quotactl_caller& caller, int disk);
  int get_quota(const syscall_notice& n, const quotactl_caller& caller, int disk, bool next);
  int set_quota(const syscall_notice& n, int disk);
  int set_info(const syscall_notice& n, int disk);

  ve_paths paths_;
  std::optional<mounted_disk> disk_;
  std::uint32_t base_ = 0;  // the host id the VE's id 0 is stored as
};

}  // namespace ovz::detail
