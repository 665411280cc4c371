#pragma once
// Work on a short-lived thread. setns and unshare of the mount, UTS and network namespaces act
// on the calling thread only: doing them on a thread of its own leaves the caller's threads
// (the embedding program's) where they are. The same thread lets a caller do something else
// while the work runs.

#include <ovz/result.hpp>

#include "fail.hpp"

#include <system_error>
#include <thread>
#include <utility>

namespace ovz::detail {

/// `work` (returning result<T>) running on a thread of its own; get() waits for its result.
/// A thread that cannot start is an error naming `what`, never an exception. Dropped unread,
/// it still waits for the work, whose captures may be the caller's.
template <class T>
class background {
 public:
  template <class F>
  background(const char* what, F&& work)
      : outcome_(fail(errc::child_failed, "{}: the thread did not run", what)) {
    try {
      thread_ = std::thread([this, work = std::forward<F>(work)]() mutable { outcome_ = work(); });
    } catch (const std::system_error& e) {
      outcome_ = sys_fail(e.code().value(), "start a thread to {}", what);
    }
  }
  // Neither copied nor moved: the thread writes into this object.
  background(const background&) = delete;
  background& operator=(const background&) = delete;
  ~background() { wait(); }

  result<T> get() {
    wait();
    return std::move(outcome_);
  }

 private:
  void wait() {
    if (thread_.joinable()) thread_.join();
  }
  result<T> outcome_;
  std::thread thread_;
};

/// Runs `work` (returning result<T>) on a new thread and waits for it.
template <class T, class F>
result<T> on_own_thread(const char* what, F&& work) {
  return background<T>(what, std::forward<F>(work)).get();
}

}  // namespace ovz::detail
