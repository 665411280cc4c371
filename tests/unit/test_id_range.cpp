#include "model/id_range.hpp"

#include "support/temp_root.hpp"

using ovz::errc;
using namespace ovz::detail;

TEST_CASE("USERNS_MAP parses as <host base>:<count>", "[userns]") {
  auto r = MUST(parse_id_range("100000:65536"));
  CHECK(r.base == 100000u);
  CHECK(r.count == 65536u);
  CHECK(format_id_range(r) == "100000:65536");
  CHECK(MUST(parse_id_range("4294901760:65535")).count == 65535u);
}

TEST_CASE("USERNS_MAP refuses malformed ranges, a zero count, wrap-around and host root",
          "[userns]") {
  for (const char* bad : {"", "100000", "100000:", ":65536", "100000:0", "a:1", "1:b",
                          "100000:65536:1", "-1:5", "4294967295:2", "0:65536"}) {
    INFO('"' << bad << '"');
    auto r = parse_id_range(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::bad_config));
  }
}

TEST_CASE("/etc/subuid lines give ranges, other lines are skipped", "[userns]") {
  auto ranges = parse_subid("alice:100000:65536\n# comment\nbroken\nbob:165536:65536\nx:1:y\n");
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].base == 100000u);
  CHECK(ranges[1].base == 165536u);
}

TEST_CASE("A VE gets the lowest 65536-block from 100000 that nothing else holds", "[userns]") {
  CHECK(free_id_range({})->base == 100000u);
  CHECK(free_id_range({})->count == 65536u);
  CHECK(free_id_range({{100000, 65536}})->base == 165536u);
  // A range overlapping a block only partly still takes the whole block.
  CHECK(free_id_range({{100000, 65536}, {200000, 10}})->base == 231072u);
  // A freed block below is reused.
  CHECK(free_id_range({{165536, 65536}})->base == 100000u);
  // Nothing left above the last whole block.
  CHECK_FALSE(free_id_range({{100000, 4294967295u - 100000u}}));
}
