#pragma once
// The seccomp filter every VE process runs under, compiled with libseccomp.

#include <ovz/result.hpp>

#include <linux/filter.h>

#include <vector>

namespace ovz::detail {

/// Refuses, with EPERM, what a VE must never do whatever its capabilities: load or remove
/// kernel modules, kexec, open files by handle (the classic escape from a chroot), use the
/// host-wide keyring, swap, process accounting, raw port I/O. Compiled once per process.
result<const std::vector<sock_filter>*> default_seccomp_filter();

}  // namespace ovz::detail
