#pragma once
// The file locks the kernel lists in /proc/locks.

#include <sys/types.h>

#include <vector>

namespace ovz::detail {

/// A lock held (not waited for) on a file; pid is as this PID namespace sees it, 0 or -1
/// when it cannot (another namespace, an open file description lock).
struct held_lock {
  pid_t pid = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};

std::vector<held_lock> held_locks();

}  // namespace ovz::detail
