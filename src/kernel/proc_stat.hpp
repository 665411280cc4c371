#pragma once
// The few fields of /proc/PID/stat the library needs about a process it started, readable
// for a zombie too (its parent has not reaped it yet).

#include <sys/types.h>

#include <optional>
#include <string>

namespace ovz::detail {

/// The task name of spawn's children until execve gives them the program's: a child found
/// under this name has not run its program (yet, or ever). No init or command is called so.
inline constexpr const char spawn_child_name[] = "ovz-spawn";

struct proc_stat {
  std::string comm;  // the task name: the program's base name once it has exec'd
  char state = '?';  // R, S, D, Z, …
  pid_t ppid = 0;
  bool exiting = false;  // PF_EXITING: in do_exit, though it may still sleep there
  int exit_code = 0;  // a zombie's status, as waitpid() reports it
  unsigned long long start_ticks = 0;  // its start, clock ticks (_SC_CLK_TCK) after boot
};

/// nullopt when the process is gone (reaped) or its stat cannot be parsed.
std::optional<proc_stat> read_proc_stat(pid_t pid);

/// "exited with status N" or "killed by signal N (SIGNAME)", from a waitpid() status.
std::string describe_exit(int status);

}  // namespace ovz::detail
