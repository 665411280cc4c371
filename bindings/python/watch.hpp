// BeancounterWatcher's C++ side, which VE.watch_beancounters() (ve.cpp) returns.

#pragma once

#include "convert.hpp"

#include <ovz/ubc_watch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>

namespace ovz_python {

// A VE's refusals as Python reads them: next() and iteration wait without the GIL, and in
// slices, so that a signal (Ctrl-C) ends even a wait for ever and close() from another thread
// ends an iteration. The queue is shared with a next() in progress, so that close() frees it
// only once that returns.
class beancounter_watcher {
 public:
  explicit beancounter_watcher(std::unique_ptr<ovz::ubc_event_queue> q) : queue_(std::move(q)) {}

  // The next event; none when `timeout` (seconds, None: for ever) passes first, or when the
  // watcher is closed and `until_closed`.
  std::optional<ovz::ubc_event> wait(std::optional<double> timeout, bool until_closed) {
    using namespace std::chrono;
    if (timeout && (!std::isfinite(*timeout) || *timeout < 0))
      raise_invalid("the timeout must be a non-negative number of seconds, or None");
    const auto deadline =
        steady_clock::now() +
        duration_cast<milliseconds>(duration<double>(std::min(timeout.value_or(0), 1e9)));
    for (;;) {
      if (!queue_) {
        if (until_closed) return std::nullopt;
        throw py::value_error("the watcher is closed");
      }
      auto q = queue_;
      auto slice = milliseconds(100);
      if (timeout)
        slice = std::clamp(duration_cast<milliseconds>(deadline - steady_clock::now()),
                           milliseconds(0), slice);
      auto e = unwrap(without_gil([&] { return q->next(slice); }));
      if (e) return e;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (timeout && steady_clock::now() >= deadline) return std::nullopt;
    }
  }

  int fileno() const {
    if (!queue_) throw py::value_error("the watcher is closed");
    return queue_->fd();
  }
  void close() { queue_.reset(); }
  bool closed() const { return !queue_; }

 private:
  std::shared_ptr<ovz::ubc_event_queue> queue_;
};

}  // namespace ovz_python
