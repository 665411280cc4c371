#pragma once
// Whose behalf another process acts on: its effective ids and groups, as /proc/PID/status
// shows them (in our user namespace). What a broker of system calls checks before it does
// what the kernel would allow only the caller's privileges.

#include <sys/types.h>

#include <optional>
#include <vector>

namespace ovz::detail {

struct proc_creds {
  uid_t euid = 0;
  gid_t egid = 0;
  std::vector<gid_t> groups;  // supplementary

  /// Whether the process is in group `gid`, as the kernel's in_egroup_p() says it.
  bool in_group(gid_t gid) const;
};

/// nullopt when the process is gone or its status cannot be parsed.
std::optional<proc_creds> read_proc_creds(pid_t pid);

}  // namespace ovz::detail
