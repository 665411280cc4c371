#pragma once
// Builders of ovz::error used across the implementation, so every message has the same shape:
// "<context>: <what failed>: <errno text>".

#include <ovz/error.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstddef>
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

/// `text` as a message may quote it: every byte that is not printable ASCII escaped (\xNN),
/// cut after `max` bytes with "…" and the full size. What a user, a VE or a file supplied is
/// quoted only through this, so that an error neither echoes a 10k-character argument whole
/// nor carries a terminal escape.
inline std::string excerpt(std::string_view text, std::size_t max = 40) {
  std::string out;
  const std::size_t shown = text.size() < max ? text.size() : max;
  for (unsigned char c : text.substr(0, shown)) {
    if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (shown < text.size()) out += fmt::format("… ({} bytes)", text.size());
  return out;
}

/// The same error with a context prefix such as "VE 101".
inline error with_context(const error& e, const std::string& context) {
  return error(e.code(), context + ": " + e.message());
}

}  // namespace ovz::detail
