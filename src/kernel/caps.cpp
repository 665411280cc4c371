#include "kernel/caps.hpp"

#include "fail.hpp"

#include <sys/capability.h>
#include <sys/fsuid.h>

#include <algorithm>

namespace ovz::detail {
namespace {

// Without a user namespace these act on the host, not on the VE: loading code into the
// kernel, raw device and port access, the host clock, mounts and the other CAP_SYS_ADMIN
// powers (the VE's monitor does the safe ones for it), security modules, the audit log, the
// kernel log, new device nodes, opening files by handle, BPF and perf, real-time scheduling
// (outside an RT cgroup group, which cgroup v2 has not, a SCHED_FIFO spinner starves the
// host's CPUs whatever the VE's cpulimit), and overriding resource limits: RLIMIT_NOFILE
// past NUMFILE, and the disk quota meant to hold root too.
constexpr int dropped_by_default[] = {
    CAP_SYS_MODULE,   CAP_SYS_RAWIO,   CAP_SYS_TIME,    CAP_SYS_ADMIN,   CAP_MAC_ADMIN,
    CAP_MAC_OVERRIDE, CAP_AUDIT_CONTROL, CAP_SYSLOG,    CAP_MKNOD,       CAP_DAC_READ_SEARCH,
    CAP_WAKE_ALARM,   CAP_BLOCK_SUSPEND, CAP_SYS_PACCT, CAP_BPF,         CAP_PERFMON,
    CAP_LINUX_IMMUTABLE, CAP_SYS_TTY_CONFIG, CAP_SYS_NICE, CAP_SYS_RESOURCE,
};

// In its own user namespace the kernel checks every capability against the namespace that
// owns the object: root of the VE holds them all over its own namespaces and none over the
// host's. These few act only on the host's (the kernel asks the initial namespace), dropped
// all the same as LXC does, so that nothing rests on each check being made that way.
constexpr int dropped_in_userns[] = {
    CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE,
};

}  // namespace

result<std::vector<int>> dropped_capabilities(const std::vector<capability_setting>& settings,
                                              bool userns) {
  std::vector<int> drops = userns ? std::vector<int>(std::begin(dropped_in_userns),
                                                     std::end(dropped_in_userns))
                                  : std::vector<int>(std::begin(dropped_by_default),
                                                     std::end(dropped_by_default));
  for (const auto& s : settings) {
    cap_value_t cap = 0;
    if (cap_from_name(("cap_" + s.name).c_str(), &cap) != 0)
      return fail(errc::bad_config, "CAPABILITY: unknown capability \"{}\"", s.name);
    drops.erase(std::remove(drops.begin(), drops.end(), cap), drops.end());
    if (!s.on) drops.push_back(cap);
  }
  // Dropping CAP_SETPCAP takes away the right to drop the rest: it goes last.
  std::stable_partition(drops.begin(), drops.end(), [](int c) { return c != CAP_SETPCAP; });
  return drops;
}

bool has_effective_capability(int cap) {
  cap_t own = ::cap_get_proc();
  if (!own) return false;
  cap_flag_value_t value = CAP_CLEAR;
  const bool got = ::cap_get_flag(own, static_cast<cap_value_t>(cap), CAP_EFFECTIVE, &value) == 0;
  ::cap_free(own);
  return got && value == CAP_SET;
}

result<void> drop_thread_capability(int cap) {
  cap_t own = ::cap_get_proc();
  if (!own) return sys_fail(errno, "cap_get_proc");
  const auto value = static_cast<cap_value_t>(cap);
  const bool dropped = ::cap_set_flag(own, CAP_EFFECTIVE, 1, &value, CAP_CLEAR) == 0 &&
                       ::cap_set_flag(own, CAP_PERMITTED, 1, &value, CAP_CLEAR) == 0 &&
                       ::cap_set_proc(own) == 0;
  const int err = errno;
  ::cap_free(own);
  if (!dropped) return sys_fail(err, "drop capability {} from this thread (capset)", cap);
  return success();
}

result<void> create_files_as(uid_t uid, gid_t gid) {
  ::setfsgid(gid);
  ::setfsuid(uid);
  if (static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1))) != uid ||
      static_cast<gid_t>(::setfsgid(static_cast<gid_t>(-1))) != gid)
    return fail(errc::unsupported, "setfsuid {} / setfsgid {} did not take", uid, gid);
  cap_t own = ::cap_get_proc();
  if (!own) return sys_fail(errno, "cap_get_proc");
  bool kept = true;
  for (cap_value_t c = 0; kept && c <= CAP_LAST_CAP; ++c) {
    cap_flag_value_t permitted = CAP_CLEAR;
    if (::cap_get_flag(own, c, CAP_PERMITTED, &permitted) == 0 && permitted == CAP_SET)
      kept = ::cap_set_flag(own, CAP_EFFECTIVE, 1, &c, CAP_SET) == 0;
  }
  kept = kept && ::cap_set_proc(own) == 0;
  const int err = errno;
  ::cap_free(own);
  if (!kept) return sys_fail(err, "keep this thread's capabilities (capset)");
  return success();
}

}  // namespace ovz::detail
