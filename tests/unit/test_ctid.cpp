#include <ovz/ctid.hpp>
#include <string>

#include "support/temp_root.hpp"

using ovz::ctid;
using ovz::errc;

TEST_CASE("ctid::from_number accepts 1 to 2^31-1", "[ctid]") {
  CHECK(MUST(ctid::from_number(1)).value() == 1u);
  CHECK(MUST(ctid::from_number(101)).value() == 101u);
  CHECK(MUST(ctid::from_number(2147483647)).value() == 2147483647u);
  CHECK(MUST(ctid::from_number(101)).str() == "101");
}

TEST_CASE("ctid::from_number refuses 0 and values above 2^31-1", "[ctid]") {
  for (std::uint64_t bad : {std::uint64_t{0}, std::uint64_t{2147483648u},
                            std::uint64_t{4294967296u}, ~std::uint64_t{0}}) {
    INFO(bad);
    auto r = ctid::from_number(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().message() ==
          "Invalid CTID " + std::to_string(bad) + ": must be a number from 1 to 2147483647");
  }
}

TEST_CASE("ctid::parse accepts plain decimal numbers", "[ctid]") {
  CHECK(MUST(ctid::parse("1")).value() == 1u);
  CHECK(MUST(ctid::parse("101")).value() == 101u);
  CHECK(MUST(ctid::parse("2147483647")).value() == 2147483647u);
  CHECK(MUST(ctid::parse("1000")).value() == 1000u);
}

TEST_CASE("ctid::parse refuses anything else, naming the text", "[ctid]") {
  for (const char* bad : {"", "0", "00", "007", "-1", "+1", " 1", "1 ", "1a", "a1", "abc", "1.0",
                          "0x10", "2147483648", "4294967297", "99999999999999999999999"}) {
    INFO('"' << bad << '"');
    auto r = ctid::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().sys_errno() == 0);
    CHECK(r.error().message() ==
          std::string("Invalid CTID \"") + bad + "\": must be a number from 1 to 2147483647");
  }
}

TEST_CASE("ctid compares by number", "[ctid]") {
  auto a = MUST(ctid::parse("99"));
  auto b = MUST(ctid::parse("101"));
  CHECK(a < b);
  CHECK(a == MUST(ctid::from_number(99)));
  CHECK(a != b);
}
