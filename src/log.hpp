#pragma once
// Sending to the log channel (include/ovz/log.hpp) from inside the library.

#include <ovz/error.hpp>
#include <ovz/log.hpp>
#include <ovz/result.hpp>

#include <string_view>

namespace ovz::detail {

void log(log_level level, std::string_view message) noexcept;
/// "<what>: <the error's message>".
void log_error(log_level level, std::string_view what, const error& e) noexcept;

/// True when `r` succeeded; else logs its error after `what` (what the library was doing,
/// naming the VE or path) and returns false. For a failure the caller goes on past: a
/// clean-up or rollback that could not finish (a warning), a fallback taken (info).
template <class T>
bool logged(const result<T>& r, std::string_view what,
            log_level level = log_level::warning) noexcept {
  if (r) return true;
  log_error(level, what, r.error());
  return false;
}

}  // namespace ovz::detail
