#include <ovz/log.hpp>

#include "fail.hpp"
#include "log.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace ovz;

namespace {

// Restores the default handler however the test ends.
struct handler_scope {
  explicit handler_scope(log_handler h) { set_log_handler(std::move(h)); }
  ~handler_scope() { set_log_handler({}); }
};

}  // namespace

TEST_CASE("a failure the library goes on past reaches the handler with its context", "[log]") {
  std::vector<std::pair<log_level, std::string>> got;
  handler_scope scope([&](log_level l, std::string_view m) { got.emplace_back(l, m); });

  const result<void> refused = detail::sys_fail(EBUSY, "rmdir /sys/fs/cgroup/x");
  CHECK_FALSE(detail::logged(refused, "VE 7: clean-up after the failed start"));
  CHECK(detail::logged(result<int>(3), "never logged"));
  CHECK_FALSE(detail::logged(refused, "killing by PID instead", log_level::info));

  REQUIRE(got.size() == 2);
  CHECK(got[0].first == log_level::warning);
  CHECK(got[0].second ==
        "VE 7: clean-up after the failed start: rmdir /sys/fs/cgroup/x: Device or resource busy");
  CHECK(got[1].first == log_level::info);
  CHECK(std::string(to_string(got[1].first)) == "info");
}

TEST_CASE("a handler that throws or replaces itself does not disturb the library", "[log]") {
  int calls = 0;
  handler_scope scope([&](log_level, std::string_view) {
    ++calls;
    throw std::runtime_error("handler bug");
  });
  detail::log(log_level::error, "first");
  detail::log(log_level::error, "second");
  CHECK(calls == 2);

  std::string last;
  set_log_handler([&](log_level, std::string_view m) {
    last = m;
    set_log_handler([&](log_level, std::string_view) { last = "replaced"; });
  });
  detail::log(log_level::warning, "one");
  CHECK(last == "one");
  detail::log(log_level::warning, "two");
  CHECK(last == "replaced");
}

TEST_CASE("the handler can be replaced while other threads log", "[log][threads]") {
  std::atomic<int> received{0};
  handler_scope scope([&](log_level, std::string_view) { ++received; });
  std::atomic<bool> stop{false};
  std::vector<std::thread> loggers;
  for (int i = 0; i < 2; ++i)
    loggers.emplace_back([&] {
      while (!stop) detail::log(log_level::debug, "from a library thread");
    });
  // Replaced until the loggers have been through many handlers, however the threads are
  // scheduled.
  for (int i = 0; i < 1000 || received < 100; ++i)
    set_log_handler([&](log_level, std::string_view m) { received += m.empty() ? 0 : 1; });
  stop = true;
  for (auto& t : loggers) t.join();
  CHECK(received >= 100);
}
