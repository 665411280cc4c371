#pragma once
/// @file
/// Seccomp profiles: which system calls a VE's processes may make. Every VE runs under the
/// built-in profile unless its CTID.conf names another (SECCOMP_PROFILE).
///
/// A profile file holds one rule per line, '#' starting a comment:
///
///     default allow                 # what every call not named below gets
///     errno:EPERM init_module finit_module delete_module
///     errno:38 kexec_load           # ENOSYS by number
///     kill open_by_handle_at
///     allow personality if 0==0     # only with these arguments (all of them)
///     errno:EPERM clone if 0&0x7e020000!=0
///     arch x86 x32                  # more architectures than this machine's
///
/// Actions: allow, errno[:NAME|NUMBER] (EPERM when bare), kill (the whole process), trap
/// (SIGSYS), log (allowed and logged by the kernel). System call names are libseccomp's.
/// A condition compares argument 0 to 5 with ==, !=, <, <=, > or >= to a number (decimal or
/// 0x hex), or the argument masked (ARG&MASK) with == to a number. A call of an architecture
/// neither this machine's nor named kills the process.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

enum class seccomp_action { allow, errno_return, kill, trap, log };

enum class seccomp_compare { eq, ne, lt, le, gt, ge, masked_eq };

/// A condition on one argument of the call.
struct seccomp_arg {
  unsigned index = 0;  ///< 0 … 5
  seccomp_compare op = seccomp_compare::eq;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;  ///< masked_eq: (argument & mask) == value
  bool operator==(const seccomp_arg&) const = default;
};

struct seccomp_rule {
  std::vector<std::string> syscalls{};
  seccomp_action action = seccomp_action::errno_return;
  int errno_value = 1;  ///< with errno_return: the errno the call fails with (EPERM)
  std::vector<seccomp_arg> args{};  ///< the rule holds where all of these do (none: always)
};

struct seccomp_profile {
  seccomp_action default_action = seccomp_action::allow;
  int default_errno = 1;
  std::vector<seccomp_rule> rules{};
  /// Architectures besides this machine's whose calls the rules hold for too (libseccomp's
  /// names: "x86", "x32").
  std::vector<std::string> architectures{};

  /// Parses the text syntax above; errc::bad_config naming `origin`, the line and the word.
  static result<seccomp_profile> parse(std::string_view text, std::string_view origin = "profile");
  static result<seccomp_profile> load(const std::filesystem::path& file);
  /// The text syntax; parse(to_text()) gives the same profile.
  std::string to_text() const;
};

/// The built-in profile: refuses (EPERM) what a VE must never do whatever its capabilities —
/// loading or removing kernel modules, kexec, opening files by handle (the classic escape
/// from a chroot), the host-wide keyrings, swap, process accounting, raw port I/O, quotas.
OVZ_API const seccomp_profile& default_seccomp_profile();

}  // namespace ovz::inline v0
