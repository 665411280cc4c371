#pragma once
// Namespace work on a short-lived thread. setns and unshare of the mount, UTS and network
// namespaces act on the calling thread only: doing them on a thread of its own leaves the
// caller's threads (the embedding program's) where they are.

#include <ovz/result.hpp>

#include "fail.hpp"

#include <system_error>
#include <thread>

namespace ovz::detail {

/// Runs `work` (returning result<T>) on a new thread and waits for it. A thread that cannot
/// start is an error naming `what`, never an exception.
template <class T, class F>
result<T> on_own_thread(const char* what, F&& work) {
  result<T> outcome = fail(errc::child_failed, "{}: the thread did not run", what);
  try {
    std::thread([&] { outcome = work(); }).join();
  } catch (const std::system_error& e) {
    return sys_fail(e.code().value(), "start a thread to {}", what);
  }
  return outcome;
}

}  // namespace ovz::detail
