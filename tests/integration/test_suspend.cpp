// suspend() freezes a running VE where it stands until resume(): its processes make no
// progress, status() says so, and what needs them to run is refused at once rather than left
// waiting; stop() resumes it first and stops it as usual. CTIDs 18100-18109.

#include <ovz/ve.hpp>

#include <catch2/catch.hpp>
#include "model/layout.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Starts a loop in the VE that writes an ever larger number into /n, and returns a reader of
// it from the host (through the init's root: the VE's processes need not run for that).
auto start_counting(const ovz::ve& v) {
  auto started = MUST(v.exec({"/bin/sh", "-c",
                              "(i=0; while :; do i=$((i+1)); echo $i > /n.new; mv /n.new /n; done) "
                              "</dev/null >/dev/null 2>&1 &"}));
  REQUIRE(started.exit_code == 0);
  const auto n = fs::path("/proc") / std::to_string(MUST(v.status()).init_pid) / "root/n";
  std::this_thread::sleep_for(100ms);
  return [n] { return ovz::test::read_text(n); };
}

// How long `op` took, in seconds.
template <class F>
double seconds_of(F&& op) {
  const auto start = std::chrono::steady_clock::now();
  op();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("a suspended VE stands still and says so, and counts on once resumed",
          "[ve][suspend]") {
  ovz::test::require_root();
  ovz::test::running_ve running(18100);
  auto& v = running.v;
  auto count = start_counting(v);

  MUST(v.suspend());
  MUST(v.suspend());  // a suspended VE stays so
  auto st = MUST(v.status());
  CHECK(st.state == ovz::ve_state::running);
  CHECK(st.suspended);
  CHECK(st.init_pid > 0);
  auto listed = MUST(ovz::list_ves(running.root.path()));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].suspended);
  const auto frozen_at = count();
  std::this_thread::sleep_for(300ms);
  CHECK(count() == frozen_at);

  MUST(v.resume());
  CHECK_FALSE(MUST(v.status()).suspended);
  std::this_thread::sleep_for(300ms);
  CHECK(count() != frozen_at);
  MUST(v.resume());  // so does one that runs
  CHECK(MUST(v.exec({"/bin/true"})).exit_code == 0);
}

TEST_CASE("exec, enter and set_user_password in a suspended VE are refused at once, telling "
          "to resume it", "[ve][suspend]") {
  ovz::test::require_root();
  ovz::test::running_ve running(18101);
  auto& v = running.v;
  MUST(v.suspend());
  const std::string told = "VE 18101 is suspended: resume it first (ovzctl resume 18101)";

  ovz::result<ovz::exec_result> ran = ovz::exec_result{};
  CHECK(seconds_of([&] { ran = v.exec({"/bin/true"}); }) < 2.0);
  REQUIRE_FALSE(ran);
  CHECK(ran.error().is(ovz::errc::suspended));
  CHECK(ran.error().message() == told);

  auto entered = v.enter({.argv = {"/bin/sh"}, .in_fd = -1, .out_fd = -1});
  REQUIRE_FALSE(entered);
  CHECK(entered.error().is(ovz::errc::suspended));
  CHECK(entered.error().message() == told);

  auto set = v.set_user_password("root", "secret");
  REQUIRE_FALSE(set);
  CHECK(set.error().is(ovz::errc::suspended));
  CHECK(set.error().message() == told);

  MUST(v.resume());
  CHECK(MUST(v.exec({"/bin/true"})).exit_code == 0);
}

TEST_CASE("stop of a suspended VE resumes it and shuts it down as usual, leaving nothing",
          "[ve][suspend][stop]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  auto v = root.open(18102);
  MUST(v.create());
  // The VE's own inittab: its shutdown action runs only if init is let run to hear the stop.
  const auto mark = ovz::test::mark_shutdown(root, v);
  MUST(v.start());
  MUST(v.suspend());
  MUST(v.stop({.timeout = 60s}));
  CHECK(ovz::test::read_text(mark) == "ran\n");
  auto st = MUST(v.status());
  CHECK(st.state == ovz::ve_state::stopped);
  CHECK_FALSE(st.suspended);
  CHECK(ovz::test::leftovers(root).empty());
}

TEST_CASE("suspend and resume of a stopped VE are not_running and change nothing",
          "[ve][suspend]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  auto v = root.open(18103);
  MUST(v.create());
  for (auto r : {v.suspend(), v.resume()}) {
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::not_running));
    CHECK(r.error().message() == "VE 18103 is not running");
  }
  auto st = MUST(v.status());
  CHECK(st.state == ovz::ve_state::stopped);
  CHECK_FALSE(st.suspended);
  CHECK(ovz::test::leftovers(root).empty());
  MUST(v.start());
  CHECK_FALSE(MUST(v.status()).suspended);
}
