#include <ovz/fd.hpp>
#include <ovz/ubc_watch.hpp>

#include "fail.hpp"
#include "log.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

namespace ovz::inline v0 {

struct ubc_event_queue::state {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  // An eventfd in semaphore mode, counting the queued events: readable exactly while one
  // waits, and each read takes one. An event is queued before it is counted and uncounted
  // before it is taken, so a reader whose read succeeded always finds one in the queue.
  unique_fd ready;
  std::mutex m;
  std::deque<ubc_event> events;
  std::unique_ptr<ubc_watcher> watcher;
  std::thread runner;

  // The watcher first, so that no handler runs any more; then the io_context runs out of work
  // (the watcher's cancelled waits end) and its thread returns.
  ~state() {
    watcher.reset();
    work.reset();
    if (runner.joinable()) runner.join();
  }

  void push(const ubc_event& e) {
    {
      std::lock_guard lock(m);
      for (auto& queued : events) {
        if (queued.resource == e.resource && queued.disk == e.disk) {
          queued.failcnt = e.failcnt;
          return;
        }
      }
      events.push_back(e);
    }
    // Cannot fail: the count never nears the eventfd's maximum, there being at most one
    // event per watched resource (the beancounters and the two disk limits).
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(ready.get(), &one, sizeof one);
  }

  // A handler that throws (out of memory queueing an event) leaves run(); the watcher goes on
  // with the next event rather than ending the process or the watch.
  void run() noexcept {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        detail::log(log_level::error, std::string("ubc_event_queue: event dropped: ") + e.what());
      } catch (...) {
        detail::log(log_level::error, "ubc_event_queue: event dropped");
      }
    }
  }
};

ubc_event_queue::ubc_event_queue(std::unique_ptr<state> s) : state_(std::move(s)) {}
ubc_event_queue::~ubc_event_queue() = default;

int ubc_event_queue::fd() const noexcept { return state_->ready.get(); }

result<std::unique_ptr<ubc_event_queue>> ubc_event_queue::start(
    const ve& v, std::chrono::milliseconds poll_interval) {
  auto s = std::make_unique<state>();
  s->ready.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE));
  if (!s->ready) return detail::sys_fail(errno, "VE {}: ubc_event_queue: eventfd", v.id().value());
  auto* raw = s.get();
  BOOST_OUTCOME_TRY(w, ubc_watcher::start(s->io, v, [raw](const ubc_event& e) { raw->push(e); },
                                          poll_interval));
  s->watcher = std::move(w);
  // The thread is the library's: the program's signals go to the program's threads, so it
  // starts with every signal blocked.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  std::error_code failed;
  try {
    s->runner = std::thread([raw] { raw->run(); });
  } catch (const std::system_error& e) {
    failed = e.code();
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (failed)
    return detail::sys_fail(failed.value(), "VE {}: ubc_event_queue: thread", v.id().value());
  return std::unique_ptr<ubc_event_queue>(new ubc_event_queue(std::move(s)));
}

result<std::optional<ubc_event>> ubc_event_queue::next(std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const bool forever = timeout < std::chrono::milliseconds::zero();
  const auto deadline = clock::now() + (forever ? std::chrono::milliseconds::zero() : timeout);
  for (;;) {
    int wait = -1;
    if (!forever) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
      wait = static_cast<int>(std::clamp<decltype(left)>(left, 0, INT_MAX));
    }
    pollfd p{state_->ready.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, wait);
    if (n < 0 && errno != EINTR) return detail::sys_fail(errno, "ubc_event_queue: poll");
    if (n > 0) {
      std::uint64_t one;
      if (::read(state_->ready.get(), &one, sizeof one) == sizeof one) {
        std::lock_guard lock(state_->m);
        auto e = state_->events.front();
        state_->events.pop_front();
        return e;
      }
      // Another thread's next() took it.
      if (errno != EAGAIN) return detail::sys_fail(errno, "ubc_event_queue: read");
    }
    if (!forever && clock::now() >= deadline) return std::nullopt;
  }
}

}  // namespace ovz::inline v0
