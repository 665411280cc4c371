// A stop asks the VE's init to shut down the way that init understands, then kills what is
// left after the timeout (the caller's, CTID.conf's STOP_TIMEOUT, else 10 s).
#include <ovz/setting.hpp>
#include <ovz/ve.hpp>

#include <catch2/catch.hpp>
#include "model/layout.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A stop of `v`, its duration printed (not asserted: the machine may be loaded).
double timed_stop(ovz::ve& v, const ovz::stop_options& opts, const char* what) {
  const auto start = std::chrono::steady_clock::now();
  MUST(v.stop(opts));
  const double took = seconds_since(start);
  std::cout << what << ": stopped in " << took << " s\n";
  return took;
}

}  // namespace

TEST_CASE("stop asks busybox init to power off: its shutdown actions run", "[ve][stop]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  auto v = root.open(14210);
  MUST(v.create());
  // The VE's own inittab, in its private area: the shutdown action leaves a mark.
  const auto mark = ovz::test::mark_shutdown(root, v);
  MUST(v.start());
  // Long enough that only init's own exit can end the stop before it.
  timed_stop(v, {.timeout = 120s}, "busybox VE");
  CHECK(ovz::test::read_text(mark) == "ran\n");
  auto st = MUST(v.status());
  CHECK(st.state == ovz::ve_state::stopped);
  CHECK(ovz::test::leftovers(root).empty());
}

TEST_CASE("an init that ignores the request is killed after the timeout", "[ve][stop]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  auto v = root.open(14211);
  MUST(v.create());
  // A shell as PID 1 has no handler for SIGTERM: in a PID namespace the signal never reaches it.
  const ovz::start_options deaf{.init = {"/bin/sh", "-c", "while :; do sleep 1; done"}};

  MUST(v.start(deaf));
  CHECK(timed_stop(v, {.timeout = 1500ms}, "timeout 1.5 s") >= 1.5);
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);

  // Unset in the call: CTID.conf's STOP_TIMEOUT, not the 10 s default.
  std::ofstream(v.conf_path(), std::ios::app) << "STOP_TIMEOUT=\"1\"\n";
  MUST(v.start(deaf));
  const double took = timed_stop(v, {}, "STOP_TIMEOUT=1");
  CHECK(took >= 1.0);
  CHECK(took < 9.0);
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);

  CHECK(ovz::test::leftovers(root).empty());
}

TEST_CASE("stop_timeout is saved as CTID.conf's STOP_TIMEOUT, never dropped unsaved", "[ve][stop]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  auto v = root.open(14213);
  MUST(v.create());
  ovz::ve_changes c;
  MUST(ovz::parse_setting("stop_timeout", "25", c));
  MUST(v.apply(c, false));  // a stopped VE keeps its settings in CTID.conf anyway
  CHECK(MUST(v.config()).get("STOP_TIMEOUT") == "25");

  MUST(v.start());
  c.stop_timeout = std::chrono::seconds(7);
  auto unsaved = v.apply(c, false);
  REQUIRE_FALSE(unsaved);
  CHECK(unsaved.error().is(ovz::errc::invalid_argument));
  CHECK_THAT(unsaved.error().message(), Catch::Contains("save it"));
  CHECK(MUST(v.config()).get("STOP_TIMEOUT") == "25");
  MUST(v.apply(c, true));
  CHECK(MUST(v.config()).get("STOP_TIMEOUT") == "7");
  MUST(v.stop({.fast = true}));
}
