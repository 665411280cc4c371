// What the library goes on past reaches the log handler. CTIDs 13200-13209.

#include "support/temp_root.hpp"

#include <ovz/log.hpp>
#include <ovz/ve.hpp>

#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

using namespace ovz;
using ovz::test::temp_root;

TEST_CASE("a clean-up that fails after a failed start is logged, not lost", "[ve][log]") {
  test::require_root();
  temp_root root;
  auto v = root.open(13200);
  MUST(v.create());

  std::mutex lock;
  std::vector<std::pair<log_level, std::string>> got;
  set_log_handler([&](log_level l, std::string_view m) {
    std::lock_guard guard(lock);
    got.emplace_back(l, m);
  });
  ::setenv("OVZ_TEST_FAULT", "clean-up:fail", 1);
  auto r = v.run({"/no/such/init"});
  ::unsetenv("OVZ_TEST_FAULT");
  set_log_handler({});

  // The start's own error is what the caller gets; the clean-up's is in the log.
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("/no/such/init") != std::string::npos);
  REQUIRE(got.size() == 1);
  CHECK(got[0].first == log_level::warning);
  INFO(got[0].second);
  CHECK(got[0].second.find("VE 13200: clean-up after the failed start: clean up") == 0);
  CHECK(got[0].second.find("Device or resource busy") != std::string::npos);

  // What the refused clean-up left, stop takes away.
  auto stopped = v.stop();
  CHECK((stopped || stopped.error().is(errc::not_running)));
}
