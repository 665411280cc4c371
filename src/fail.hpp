#pragma once
// Builders of ovz::error used across the implementation, so every message has the same shape:
// "<context>: <what failed>: <errno text>".

#include <ovz/error.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace ovz::detail {

/// An error of libovz's own category with a formatted message.
template <class... Args>
error fail(errc code, fmt::format_string<Args...> f, Args&&... args) {
  return error(make_error_code(code), fmt::format(f, std::forward<Args>(args)...));
}

/// An error for a refused system call: the errno in the system category, its text appended.
template <class... Args>
error sys_fail(int err, fmt::format_string<Args...> f, Args&&... args) {
  return error(std::error_code(err, std::system_category()),
               fmt::format("{}: {}", fmt::format(f, std::forward<Args>(args)...),
                           std::strerror(err)));
}

/// At most `max` characters of `text` to quote in a message, anything but printable ASCII
/// shown as '?' and a cut marked "...": an error names what it refused without copying it.
inline std::string excerpt(std::string_view text, std::size_t max = 40) {
  std::string out;
  for (char c : text.substr(0, max)) out += c >= ' ' && c <= '~' ? c : '?';
  if (text.size() > max) out += "...";
  return out;
}

/// The same error with a context prefix such as "VE 101".
inline error with_context(const error& e, const std::string& context) {
  return error(e.code(), context + ": " + e.message());
}

}  // namespace ovz::detail
