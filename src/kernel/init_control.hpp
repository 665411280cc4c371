#pragma once
// Reaching a VE's init from the host to ask it to shut down: what it is, and its initctl FIFO.
// The decision (which init, which request) is the model's (model/shutdown.hpp).

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <string>
#include <string_view>

namespace ovz::detail {

/// /proc/PID of the process that `pidfd` holds, as a directory descriptor that stays bound to
/// it (so a reused PID cannot stand in for it): the process is checked alive through the
/// pidfd after the open. errc::invalid_argument for a process of the caller's own PID
/// namespace, which is no VE's init: what is written below would reach the host's init.
result<unique_fd> open_init_proc(pid_t pid, int pidfd);

/// The executable (readlink of exe, as the VE sees the path) and task name (comm, without
/// its newline) of the process of `proc_dir`.
struct init_identity {
  std::string exe;
  std::string comm;
};
result<init_identity> identify_init(int proc_dir);

/// Writes `request` whole (at most PIPE_BUF bytes, so atomically) to /run/initctl inside the
/// root of the process of `proc_dir`. The path is resolved inside that root (openat2
/// RESOLVE_IN_ROOT, no magic links, the last component not followed) and opened O_PATH first:
/// only a FIFO is then opened for writing, non-blocking, so a VE's symlink, device node or
/// file there makes the host neither write elsewhere nor open a device. False when there is
/// no FIFO or no one reads it (not sysvinit, or not ready).
result<bool> write_initctl(int proc_dir, std::string_view request);

}  // namespace ovz::detail
