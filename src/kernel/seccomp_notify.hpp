#pragma once
// The supervisor's side of seccomp user notification: a system call a filter handed to us,
// the caller's memory it points into, and our answer. libseccomp does the ioctls.

#include <ovz/result.hpp>

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace ovz::detail {

/// One system call waiting for an answer.
struct syscall_notice {
  std::uint64_t id = 0;
  pid_t pid = 0;  // in our PID namespace
  std::string name;  // the call's name on the caller's architecture ("mount")
  std::array<std::uint64_t, 6> args{};
};

/// The next call waiting on `listener`; nothing when it went away meanwhile (the caller was
/// killed) or there was none after all.
result<std::optional<syscall_notice>> receive_notice(int listener);

/// Whether the caller still waits: checked after looking at its /proc entries and memory,
/// whose PID could otherwise have been reused.
bool notice_valid(int listener, std::uint64_t id);

/// The call returns `error` (an errno) or, when it is 0, succeeds with 0.
void answer(int listener, std::uint64_t id, int error);

/// The kernel runs the call itself, with the caller's own privileges: for a call we do not
/// broker (its namespaces are not the VE's), which the kernel then allows or refuses as ever.
void let_kernel_run(int listener, std::uint64_t id);

/// A NUL-terminated string of at most `max` bytes at `address` in process `pid`; EFAULT,
/// ENAMETOOLONG as the kernel would say them.
result<std::string> read_caller_string(pid_t pid, std::uint64_t address, std::size_t max);

/// Writes `size` bytes to `address` in the process whose /proc/PID/mem `mem` is, opened
/// before its call was checked to be waiting still: the answer of a call that fills a buffer.
result<void> write_caller_bytes(int mem, std::uint64_t address, const void* bytes,
                                std::size_t size);

/// Exactly `size` bytes at `address` in process `pid`.
result<std::string> read_caller_bytes(pid_t pid, std::uint64_t address, std::size_t size);

}  // namespace ovz::detail
