// The beancounter watcher on an io_context that several threads run, as a panel embedding
// the library does. Its data races show under ThreadSanitizer (check.sh's build-tsan runs
// this file's tag); the order of the events it reports shows in any build. CTIDs 11600-11609.

#include "support/temp_root.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
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
