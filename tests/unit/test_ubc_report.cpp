#include <ovz/beancounter.hpp>
#include <string>
#include <vector>

#include "support/temp_root.hpp"

using ovz::errc;
using ovz::ubc_resource;
using ovz::ubc_snapshot;
using ovz::ubc_stat;
using ovz::ubc_unlimited;

namespace {

ovz::ctid id(std::uint32_t n) { return MUST(ovz::ctid::from_number(n)); }

// As the OpenVZ kernel prints it (kernel/bc/proc.c), column for column.
const std::string header =
    "Version: 2.5\n"
    "       uid  resource                     held              maxheld              barrier"
    "                limit              failcnt\n";

std::string refusal(const std::string& text) {
  auto r = ovz::parse_user_beancounters(text);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::bad_config));
  return r.error().message();
}

std::vector<ubc_snapshot> sample() {
  std::vector<ubc_snapshot> ves;
  ves.push_back(
      {.id = id(101),
       .stats = {{.resource = ubc_resource::kmemsize, .held = 2097152, .maxheld = 2355200},
                 {.resource = ubc_resource::lockedpages}}});
  ubc_snapshot full{.id = id(2147483647), .stats = {}};
  std::uint64_t n = 1;
  for (auto r : ovz::all_ubc_resources()) {
    full.stats.push_back({.resource = r,
                          .held = n,
                          .maxheld = n * 3,
                          .barrier = n * 100,
                          .limit = n * 200,
                          .failcnt = n % 4});
    n = n * 7 + 1;
  }
  full.stats.back().limit = ubc_unlimited;
  ves.push_back(full);
  ves.push_back({.id = id(102),
                 .stats = {{.resource = ubc_resource::physpages,
                            .held = 18446744073709551615u,
                            .barrier = 0,
                            .limit = 65536,
                            .failcnt = 12}}});
  return ves;
}

}  // namespace

TEST_CASE("format_user_beancounters writes OpenVZ's layout", "[ubc_report]") {
  std::vector<ubc_snapshot> ves;
  ves.push_back(
      {.id = id(101),
       .stats = {{.resource = ubc_resource::kmemsize, .held = 2097152, .maxheld = 2355200},
                 {.resource = ubc_resource::lockedpages}}});
  ves.push_back({.id = id(102),
                 .stats = {{.resource = ubc_resource::numproc,
                            .held = 5,
                            .maxheld = 9,
                            .barrier = 240,
                            .limit = 240,
                            .failcnt = 3}}});
  CHECK(ovz::format_user_beancounters(ves) ==
        header +
            "      101:  kmemsize                  2097152              2355200  "
            "9223372036854775807  9223372036854775807                    0\n"
            "            lockedpages                     0                    0  "
            "9223372036854775807  9223372036854775807                    0\n"
            "      102:  numproc                         5                    9"
            "                  240                  240                    3\n");
  CHECK(ovz::format_user_beancounters({}) == header);
}

TEST_CASE("parse_user_beancounters reads back what format wrote", "[ubc_report]") {
  auto ves = sample();
  auto back = MUST(ovz::parse_user_beancounters(ovz::format_user_beancounters(ves)));
  REQUIRE(back.size() == ves.size());
  for (std::size_t v = 0; v < ves.size(); ++v) {
    INFO("VE " << ves[v].id.str());
    CHECK(back[v].id == ves[v].id);
    REQUIRE(back[v].stats.size() == ves[v].stats.size());
    for (std::size_t i = 0; i < ves[v].stats.size(); ++i) {
      const auto& a = back[v].stats[i];
      const auto& b = ves[v].stats[i];
      INFO(ovz::to_string(b.resource));
      CHECK(a.resource == b.resource);
      CHECK(a.held == b.held);
      CHECK(a.maxheld == b.maxheld);
      CHECK(a.barrier == b.barrier);
      CHECK(a.limit == b.limit);
      CHECK(a.failcnt == b.failcnt);
    }
  }
  CHECK(MUST(ovz::parse_user_beancounters(header)).empty());
}

TEST_CASE("parse_user_beancounters is tolerant of the amount of whitespace", "[ubc_report]") {
  auto ves =
      MUST(ovz::parse_user_beancounters("Version:   2.5\r\n"
                                        "uid resource held maxheld barrier limit failcnt\n"
                                        "\n"
                                        "101: numproc 1 2 3 4 5\n"
                                        "\t  numfile\t6  7 8 9 10   \n"
                                        "  102:   numproc 0 0 0 0 0"));
  REQUIRE(ves.size() == 2);
  CHECK(ves[0].id == id(101));
  REQUIRE(ves[0].stats.size() == 2);
  CHECK(ves[0].stats[1].resource == ubc_resource::numfile);
  CHECK(ves[0].stats[1].held == 6);
  CHECK(ves[0].stats[1].failcnt == 10);
  CHECK(ves[1].id == id(102));
  REQUIRE(ves[1].stats.size() == 1);
}

TEST_CASE("parse_user_beancounters refuses malformed lines, naming them", "[ubc_report]") {
  const std::string ve101 = "      101:  numproc 1 2 3 4 5\n";
  CHECK(refusal("") == "line 1: expected \"Version: 2.5\"");
  CHECK(refusal("Version: 2.6\n") == "line 1: expected \"Version: 2.5\"");
  CHECK(refusal("Version: 2.5\n") == "line 2: expected the column header");
  CHECK(refusal("Version: 2.5\nuid resource held maxheld barrier limit\n") ==
        "line 2: expected the column header \"uid resource held maxheld barrier limit "
        "failcnt\"");
  CHECK(refusal(header + "            numproc 1 2 3 4 5\n") ==
        "line 3: expected \"CTID:\" on the first line of a VE");
  CHECK(refusal(header + ve101 + "   numproc 1 2 3 4\n") ==
        "line 4: expected a resource and five counters, found 5 words");
  CHECK(refusal(header + ve101 + "   numfile 1 2 3 4 5 6 7\n") ==
        "line 4: expected a resource and five counters, found 8 words");
  CHECK(refusal(header + "101 numproc 1 2 3 4 5\n") ==
        "line 3: expected \"CTID:\" before the resource");
  CHECK(refusal(header + "0: numproc 1 2 3 4 5\n") ==
        "line 3: Invalid CTID \"0\": must be a number from 1 to 2147483647");
  CHECK(refusal(header + "101: numprocs 1 2 3 4 5\n") ==
        "line 3: Unknown beancounter \"numprocs\"");
  CHECK(refusal(header + "101: numproc 1 2 -3 4 5\n") == "line 3: \"-3\" is not a counter");
  CHECK(refusal(header + "101: numproc 1 2 3 4 5x\n") == "line 3: \"5x\" is not a counter");
  CHECK(refusal(header + "101: numproc 1 2 3 4 18446744073709551616\n") ==
        "line 3: \"18446744073709551616\" is not a counter");
  CHECK(refusal(header + ve101 + " numproc 1 2 3 4 5\n") ==
        "line 4: numproc appears twice for VE 101");
  CHECK(refusal(header + ve101 + "102: numproc 0 0 0 0 0\n" + ve101) ==
        "line 5: VE 101 appears twice");
}
