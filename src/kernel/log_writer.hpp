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
#include <string_view>

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

/// A log file that never grows past max_bytes (at least one append): before it would, it is
/// renamed to `rotated` and begun anew. Raw system calls only, for the writer's sake. Output
/// that cannot be written is dropped rather than left to block the VE.
class capped_log {
 public:
  explicit capped_log(const log_writer_plan& w) noexcept : w_(w) {}
  capped_log(const capped_log&) = delete;
  capped_log& operator=(const capped_log&) = delete;
  ~capped_log() { close(); }
  void append(const char* data, std::size_t n) noexcept;
  void close() noexcept;

 private:
  void reopen() noexcept;
  log_writer_plan w_;
  int out_ = -1;
  std::uint64_t size_ = 0;
};

/// Copies `in` into the log until every writer of the pipe has closed it. The log is renamed
/// to `rotated` and begun anew before it would grow past max_bytes (at least the size of one
/// read); output that cannot be written is dropped rather than left to block the VE. Raw
/// system calls only.
void copy_capped(const log_writer_plan& w) noexcept;

/// Waits for a log writer or a monitor (spawn_spec::monitor) to write what is left and end;
/// one that something keeps waiting is killed after a few seconds.
void finish_writer(const process& writer);

/// The parent of `pid` when its task name is `comm` (a log writer, a monitor), while both run
/// (or `pid` is a zombie it has not reaped); nothing otherwise.
result<std::optional<process>> parent_named(pid_t pid, std::string_view comm);

}  // namespace ovz::detail
