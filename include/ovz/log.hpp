#pragma once
/// @file
/// The library's log channel: what it cannot return as an error because the operation that
/// met it goes on or has already failed for another reason (a clean-up or a rollback that
/// could not finish, a fallback taken).

#include <ovz/export.hpp>

#include <functional>
#include <string_view>

namespace ovz::inline v0 {

enum class log_level { debug, info, warning, error };

/// "debug", "info", "warning" or "error".
OVZ_API const char* to_string(log_level l) noexcept;

/// Receives one message: a sentence naming the VE, path and call, without a trailing newline.
/// It may be called from any thread that runs library code (a caller's thread, a watcher's
/// io_context thread), from several at once; the message is valid only during the call.
/// Whatever it throws is discarded.
using log_handler = std::function<void(log_level level, std::string_view message)>;

/// Replaces the process-wide handler; an empty one restores the default, which writes
/// warnings and errors to stderr as "libovz: <level>: <message>" and drops the rest (a
/// program that wants silence installs a handler that does nothing). Thread-safe: a call in
/// flight finishes with the handler it started with, and a handler may itself call
/// set_log_handler.
OVZ_API void set_log_handler(log_handler handler);

}  // namespace ovz::inline v0
