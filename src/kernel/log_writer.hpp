#pragma once
// The writer behind spawn_spec::log: a process between the caller and the spawned one that
// copies the spawned process's output from a pipe into a file of bounded size.
//
// It is a clone of the caller that never execs, so it keeps spawn's child rule for its whole
// life: raw system calls only (kernel/raw.hpp), no allocation, no lock, nothing another
// thread of the caller may have held at clone time. Exec'ing a helper program instead would need an executable
// installed where an embedding program (Python, a panel) can find it; a loop of read, write,
// rename and open needs none. Being the spawned process's parent, it is where the per-VE
// monitor (console pty, init's exit status, reboot as restart) is to grow; what needs the
// whole library there will have to exec a program of its own.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace ovz::detail {

/// The writer's task name (comm): how stop tells it from whatever else may be init's parent.
inline constexpr const char log_writer_name[] = "ovz-console";

/// What the writer reads, all open or laid out before clone.
struct log_writer_plan {
  int in = -1;                    // the pipe's read end; -1: no log
  int dir = -1;                   // the directory of the log
  const char* name = nullptr;     // the log's name in `dir`
  const char* rotated = nullptr;  // what it is renamed to when full
  std::uint64_t max_bytes = 0;
};

/// Copies `in` into the log until every writer of the pipe has closed it. The log is renamed
/// to `rotated` and begun anew before it would grow past max_bytes (at least the size of one
/// read); output that cannot be written is dropped rather than left to block the VE. Raw
/// system calls only.
void copy_capped(const log_writer_plan& w) noexcept;

/// Waits for a writer to copy what is left in the pipe and end; one that another holder of
/// the pipe keeps waiting is killed after a few seconds.
void finish_log_writer(const process& writer);

/// The log writer of a process started with spawn_spec::log, while both run (or the process
/// is a zombie its writer has not let go of); nothing for any other process.
result<std::optional<process>> log_writer_of(pid_t pid);

}  // namespace ovz::detail
