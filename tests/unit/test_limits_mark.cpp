// The mark a ubc_reader reads instead of a VE's limits: each write of the limits leaves a new
// one, which any reader sees, and nothing else changes it.

#include <catch2/catch.hpp>

#include "support/fake_cgroupfs.hpp"

#include "kernel/limits_mark.hpp"

#include <unistd.h>

using namespace ovz;

TEST_CASE("each write of a VE's limits leaves a new mark on its cgroup", "[ubc][ubc-reader]") {
  test::fake_cgroupfs fs;
  fs.make("pids/ve");
  fs.make("memory/ve");
  detail::ve_cgroup cg;
  cg.dirs.push_back({{"pids"}, fs.open("pids/ve")});
  cg.dirs.push_back({{"memory"}, fs.open("memory/ve")});
  const auto none = detail::limits_mark(cg);
  if (!none || ::geteuid() != 0) {
    WARN("SKIPPED: trusted.* xattrs need root and a filesystem that keeps them");
    return;
  }
  CHECK(*none == 0);  // no write yet
  REQUIRE(detail::mark_limits_written(cg));
  const auto first = detail::limits_mark(cg);
  REQUIRE(first);
  CHECK(*first != 0);
  CHECK(detail::limits_mark(cg) == first);
  // The same cgroup opened anew, as another process's reader opens it.
  detail::ve_cgroup again;
  again.dirs.push_back({{"pids"}, fs.open("pids/ve")});
  CHECK(detail::limits_mark(again) == first);
  REQUIRE(detail::mark_limits_written(again));
  const auto second = detail::limits_mark(cg);
  REQUIRE(second);
  CHECK(*second != *first);
}
