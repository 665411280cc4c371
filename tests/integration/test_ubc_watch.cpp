// The beancounter watcher on an io_context that several threads run, as a panel embedding
// the library does. Its data races show under ThreadSanitizer (check.sh's build-tsan runs
// this file's tag); the order of the events it reports shows in any build. The queued watcher
// the C and Python bindings use, on a memory hog. Where the ovz module is loaded, a watcher
// that waits on it. CTIDs 11600-11609, 13810-13819 and 17211.

#include "support/beancounters.hpp"
#include "support/kmod.hpp"
#include "support/temp_root.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

using namespace ovz;
using namespace std::chrono_literals;

TEST_CASE("a watcher run by several threads reports each refusal once and in order",
          "[ubc][watch]") {
  test::require_root();
  test::running_ve running(11600);
  auto& v = running.v;
  ve_params limit;
  limit.ubc.push_back({ubc_resource::numproc, MUST(parse_ubc_value(ubc_resource::numproc, "10"))});
  MUST(v.set(limit, false));

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) pool.emplace_back([&] { io.run(); });

  std::mutex m;
  std::vector<ubc_event> events;
  auto record = [&](const ubc_event& e) {
    std::lock_guard lock(m);
    events.push_back(e);
  };
  // Watchers started and dropped while their 1 ms ticks run on the pool: their start, their
  // handlers and their cancellation meet on different threads.
  for (int i = 0; i < 100; ++i) {
    auto dropped = MUST(ubc_watcher::start(io, v, [](const ubc_event&) {}, 1ms));
    std::this_thread::sleep_for(std::chrono::microseconds(100 * (i % 20)));
  }

  auto watcher = MUST(ubc_watcher::start(io, v, record, 1ms));
  MUST(v.exec({"/bin/sh", "-c", "for i in $(seq 15); do sleep 1 & done; wait"}));
  std::this_thread::sleep_for(200ms);  // a tick or a notification after the last refusal
  watcher.reset();
  work.reset();
  for (auto& t : pool) t.join();

  const auto failcnt = [&] {
    for (const auto& s : MUST(v.beancounters()).stats)
      if (s.resource == ubc_resource::numproc) return s.failcnt;
    return std::uint64_t{0};
  }();
  REQUIRE(failcnt > 0);
  REQUIRE_FALSE(events.empty());
  // Each growth is reported once: every event starts where the one before ended, the first
  // at the VE's fresh count of zero.
  std::uint64_t previous = 0;
  for (const auto& e : events) {
    CHECK(e.id == v.id());
    CHECK(e.resource == ubc_resource::numproc);
    CHECK(e.previous == previous);
    CHECK(e.failcnt > e.previous);
    previous = e.failcnt;
  }
  CHECK(previous == failcnt);
}

TEST_CASE("a queued watcher hands a memory hog's refusals to next() and readies its fd",
          "[ubc][watch]") {
  test::require_root();
  test::running_ve running(13810);
  auto& v = running.v;
  CHECK_FALSE(ubc_event_queue::start(v, 0ms));  // a busy loop is refused

  auto queue = MUST(ubc_event_queue::start(v, 200ms));
  CHECK_FALSE(MUST(queue->next(0ms)));
  pollfd p{queue->fd(), POLLIN, 0};
  CHECK(::poll(&p, 1, 0) == 0);

  ve_params limit;
  limit.ubc.push_back(
      {ubc_resource::physpages, MUST(parse_ubc_value(ubc_resource::physpages, "0:32M"))});
  MUST(v.set(limit, false));
  // dd fills a buffer of its block size: 64 MiB cannot fit under 32.
  CHECK(MUST(v.exec({"/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"}))
            .exit_code != 0);
  REQUIRE(::poll(&p, 1, 5000) == 1);

  // One event per resource at most waits (later growth folds into it), so the chain of
  // events read ends at the VE's count.
  std::uint64_t previous = 0;
  int events = 0;
  while (auto e = MUST(queue->next(1000ms))) {
    CHECK(e->id == v.id());
    CHECK(e->resource == ubc_resource::physpages);
    CHECK(e->previous == previous);
    CHECK(e->failcnt > e->previous);
    previous = e->failcnt;
    ++events;
  }
  CHECK(events > 0);
  CHECK(::poll(&p, 1, 0) == 0);
  for (const auto& s : MUST(v.beancounters()).stats)
    if (s.resource == ubc_resource::physpages) CHECK(s.failcnt == previous);
}

namespace {

// Files of /dev/ovz open, and VEs' filesystems mounted, keep the module in use.
int module_users() {
  std::ifstream in("/sys/module/ovz/refcnt");
  int n = -1;
  in >> n;
  return n;
}

}  // namespace

// On cgroup v2 (the lab) memory.events wakes the watcher as soon too: what shows here is that
// the watcher waits on the module and is woken in time with it; on cgroup v1 with the module
// the module alone makes it that soon.
TEST_CASE("where the ovz module is loaded, a watcher that polls every 30 s reports a memory "
          "hog's refusal within seconds",
          "[kmod][ubc][watch]") {
  test::require_root();
  if (!test::module_here()) return;
  test::temp_root root;
  auto v = root.open(17211);
  MUST(v.create());
  MUST(v.set(test::ubc(ubc_resource::physpages, "0:32M"), true));
  MUST(v.start());

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::mutex m;
  std::condition_variable arrived;
  std::vector<ubc_event> events;
  const int users_before = module_users();
  auto watcher = MUST(ubc_watcher::start(
      io, v,
      [&](const ubc_event& e) {
        std::lock_guard lock(m);
        events.push_back(e);
        arrived.notify_all();
      },
      30s));
  CHECK(module_users() == users_before + 1);

  CHECK(MUST(v.exec({"/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"}))
            .exit_code != 0);
  {
    std::unique_lock lock(m);
    // Well below the 30 s poll interval: only a wakeup reports it by then.
    CHECK(arrived.wait_for(lock, 5s, [&] { return !events.empty(); }));
    if (!events.empty()) {
      CHECK(events.front().id == v.id());
      CHECK(events.front().resource == ubc_resource::physpages);
    }
  }
  watcher.reset();
  work.reset();
  runner.join();
  CHECK(module_users() == users_before);
  test::stop_then_unload(v);
  MUST(v.destroy());
}
