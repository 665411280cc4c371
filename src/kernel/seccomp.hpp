#pragma once
// Seccomp profiles compiled into the classic BPF programs spawn installs, by libseccomp.

#include <ovz/result.hpp>
#include <ovz/seccomp.hpp>

#include <linux/filter.h>

#include <vector>

namespace ovz::detail {

/// The program for `profile` on this architecture.
result<std::vector<sock_filter>> compile_seccomp(const seccomp_profile& profile);

/// The built-in profile's program, compiled once per process: every VE start uses it.
result<const std::vector<sock_filter>*> default_seccomp_filter();

}  // namespace ovz::detail
