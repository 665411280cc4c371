#pragma once
// What /proc tells a test of a host process: its parent, its task name, its command line.

#include <sys/types.h>

#include <string>

namespace ovz::test {

/// The PID of the process's parent; 0 when it is gone.
pid_t parent_of(pid_t pid);

/// The process's task name (comm); empty when it is gone.
std::string comm_of(pid_t pid);

/// The process's command line as ps shows it: its arguments joined by spaces.
std::string command_line_of(pid_t pid);

}  // namespace ovz::test
