#pragma once
/// @file
/// The error every fallible libovz call reports: an std::error_code to branch on and a message
/// that says what to fix.

#include <ovz/export.hpp>

#include <string>
#include <system_error>

namespace ovz::inline v0 {

/// libovz's own error conditions, listed with what each means in errc.def: invalid_argument,
/// not_found, already_exists, already_running, not_running, locked, bad_config, unsupported,
/// timed_out, child_failed. Where the kernel refused, the code is instead the errno in
/// std::system_category(), so callers can branch on EPERM, ENOSPC and the like.
enum class errc {
#define OVZ_ERRC(name, value, c_code, message, py_class, py_doc) name = value,
#include <ovz/errc.def>
};

/// The category of ovz::errc codes; its name() is "ovz".
OVZ_API const std::error_category& category() noexcept;

/// Makes an std::error_code of libovz's category.
OVZ_API std::error_code make_error_code(errc e) noexcept;

/// An error: a code and a human-readable message with context (which VE, which path, which
/// call, errno text).
class OVZ_API error {
 public:
  error() = default;  // Boost.Outcome needs it; a default error is never returned
  error(std::error_code code, std::string message);

  const std::error_code& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  /// The errno behind the error, or 0 when the kernel was not the one that refused.
  int sys_errno() const noexcept;

  /// True when the code is the given libovz condition.
  bool is(errc e) const noexcept { return code_ == make_error_code(e); }

 private:
  std::error_code code_;
  std::string message_;
};

}  // namespace ovz::inline v0

namespace std {
template <>
struct is_error_code_enum<ovz::errc> : true_type {};
}  // namespace std
