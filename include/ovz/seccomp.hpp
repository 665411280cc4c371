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
///
/// Actions: allow, errno[:NAME|NUMBER] (EPERM when bare), kill (the whole process), trap
/// (SIGSYS), log (allowed and logged by the kernel). System call names are libseccomp's.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

enum class seccomp_action { allow, errno_return, kill, trap, log };

struct seccomp_rule {
  std::vector<std::string> syscalls{};
  seccomp_action action = seccomp_action::errno_return;
  int errno_value = 1;  ///< with errno_return: the errno the call fails with (EPERM)
};

struct seccomp_profile {
  seccomp_action default_action = seccomp_action::allow;
  int default_errno = 1;
  std::vector<seccomp_rule> rules{};

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
