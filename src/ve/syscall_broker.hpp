#pragma once
// The part of a VE's monitor that carries out, for a VE without a user namespace, the system
// calls its root may make but lacks CAP_SYS_ADMIN for: sethostname and setdomainname in the
// VE's UTS namespace, and the mounts model/mount_policy.hpp allows in its mount namespace
// (new tmpfs and mqueue, copies of its /proc and read-only /sys, changes to and unmounting of
// those), for a caller of effective uid 0 only, as the kernel would refuse anyone without
// CAP_SYS_ADMIN; and quotactl on its disk (ve/quota_broker.hpp). The VE's seccomp filters
// hand these calls over (user notification); their
// listeners reach the monitor from init's spawn and from each command run in the VE. A call
// from a process in namespaces of its own (a user namespace it made) is left to the kernel,
// which judges it by that process's own privileges as ever.

#include <ovz/fd.hpp>

#include "model/layout.hpp"
#include "model/mount_policy.hpp"
#include "ve/quota_broker.hpp"

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

namespace ovz::detail {

class syscall_broker {
 public:
  syscall_broker(pid_t init, const ve_paths& l) : init_(init), quota_(l) {}

  /// A socket over which listeners arrive (SCM_RIGHTS), until it reaches end-of-file.
  void add_source(unique_fd sock);
  /// Takes a connection on the listening broker socket as a source.
  void accept_from(int listening);

  /// The descriptors to poll: sources and listeners.
  void watch(std::vector<pollfd>& fds) const;
  /// Handles what poll reported on one of them; false if it is none of ours.
  bool handle(const pollfd& ready);
  /// Lets go of what the VE's calls needed held (its disk) once it has stopped.
  void release() { quota_.release(); }

 private:
  void take_listener(int source);
  bool answer_one(int listener);  // false: the listener failed and is no use any more
  int do_mount(const struct syscall_notice& n, const struct mount_site& site);
  int do_umount(const struct syscall_notice& n, const struct mount_site& site);
  int do_set_name(const struct syscall_notice& n, int pidfd);
  int do_quotactl(int listener, const struct syscall_notice& n, int pidfd);
  void forget_gone_mounts();
  void adopt_start_mounts();

  pid_t init_;
  std::vector<unique_fd> sources_;
  std::vector<unique_fd> listeners_;
  std::map<std::uint64_t, own_mount_kind> own_;  // by mount ID
  bool adopted_ = false;
  quota_broker quota_;
};

}  // namespace ovz::detail
