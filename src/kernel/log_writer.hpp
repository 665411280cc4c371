#pragma once
// What a spawned process's monitor (spawn_spec::monitor) writes its output with and how the
// caller waits for it: a log file of bounded size, and the monitor found as the parent of the
// process it watches.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace ovz::detail {

/// Where a capped_log writes.
struct log_writer_plan {
  int dir = -1;                   // the directory of the log
  const char* name = nullptr;     // the log's name in `dir`
  const char* rotated = nullptr;  // what it is renamed to when full
  std::uint64_t max_bytes = 0;
};

/// A log file that never grows past max_bytes (at least one append): before it would, it is
/// renamed to `rotated` and begun anew. Output that cannot be written is dropped rather than
/// left to block the VE.
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

/// Waits for a monitor (spawn_spec::monitor) to write what is left and end;
/// one that something keeps waiting is killed after a few seconds.
void finish_writer(const process& writer);

/// The parent of `pid` when its task name is `comm` (a monitor), while both run
/// (or `pid` is a zombie it has not reaped); nothing otherwise.
result<std::optional<process>> parent_named(pid_t pid, std::string_view comm);

}  // namespace ovz::detail
