#include <ovz/log.hpp>

#include "log.hpp"

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace ovz::inline v0 {
namespace {

// The handler is shared, not locked around the call: a message in flight keeps the handler it
// started with alive while another thread replaces it, and a handler that logs or replaces
// itself cannot deadlock.
struct handler_slot {
  std::mutex lock;
  std::shared_ptr<const log_handler> handler;
};

handler_slot& slot() {
  // Leaked on purpose: a library thread may log during static destruction.
  static auto* s = new handler_slot;
  return *s;
}

// Warnings and errors only: the default must not make a quiet program chatty, but what went
// wrong unnoticed must not vanish either.
void default_handler(log_level level, std::string_view message) noexcept {
  if (level < log_level::warning) return;
  std::fprintf(stderr, "libovz: %s: %.*s\n", to_string(level), static_cast<int>(message.size()),
               message.data());
}

}  // namespace

const char* to_string(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "unknown";
}

void set_log_handler(log_handler handler) {
  auto next = handler ? std::make_shared<const log_handler>(std::move(handler)) : nullptr;
  auto& s = slot();
  {
    std::lock_guard guard(s.lock);
    s.handler.swap(next);
  }
  // The old handler is released here, outside the lock: releasing a Python callable takes the
  // GIL, whose holder may be waiting for the lock to log.
}

}  // namespace ovz::inline v0

namespace ovz::detail {

void log(log_level level, std::string_view message) noexcept {
  std::shared_ptr<const log_handler> h;
  {
    auto& s = slot();
    std::lock_guard guard(s.lock);
    h = s.handler;
  }
  if (!h) return default_handler(level, message);
  try {
    (*h)(level, message);
  } catch (...) {
    // A handler's failure cannot be reported anywhere but to the handler itself.
  }
}

void log_error(log_level level, std::string_view what, const error& e) noexcept {
  try {
    log(level, std::string(what) + ": " + e.message());
  } catch (...) {
    log(level, what);  // out of memory: the context at least
  }
}

}  // namespace ovz::detail
