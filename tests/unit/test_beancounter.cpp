#include <ovz/beancounter.hpp>
#include <string>

#include "support/temp_root.hpp"

using ovz::errc;
using ovz::ubc_resource;
using ovz::ubc_unlimited;
using ovz::ubc_value;

namespace {

ubc_value parsed(ubc_resource r, const char* text) {
  INFO(ovz::to_string(r) << " \"" << text << '"');
  return MUST(ovz::parse_ubc_value(r, text));
}

std::string refusal(ubc_resource r, const char* text) {
  INFO(ovz::to_string(r) << " \"" << text << '"');
  auto v = ovz::parse_ubc_value(r, text);
  REQUIRE_FALSE(v);
  CHECK(v.error().is(errc::invalid_argument));
  return v.error().message();
}

}  // namespace

TEST_CASE("every beancounter, in report order, with its name and key", "[beancounter]") {
  const auto& all = ovz::all_ubc_resources();
  REQUIRE(all.size() == 21);
  CHECK(all.front() == ubc_resource::kmemsize);
  CHECK(all.back() == ubc_resource::swappages);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(static_cast<std::size_t>(all[i]) == i);

  CHECK(std::string(ovz::to_string(ubc_resource::numproc)) == "numproc");
  CHECK(std::string(ovz::to_string(ubc_resource::othersockbuf)) == "othersockbuf");
  CHECK(ovz::conf_key(ubc_resource::physpages) == "PHYSPAGES");
  CHECK(ovz::conf_key(ubc_resource::numiptent) == "NUMIPTENT");
  for (auto r : all) {
    INFO(ovz::to_string(r));
    CHECK(MUST(ovz::parse_ubc_resource(ovz::to_string(r))) == r);
    CHECK(MUST(ovz::parse_ubc_resource(ovz::conf_key(r))) == r);
  }
}

TEST_CASE("parse_ubc_resource ignores case and refuses unknown names", "[beancounter]") {
  CHECK(MUST(ovz::parse_ubc_resource("NumProc")) == ubc_resource::numproc);
  for (const char* bad : {"foo", "", "numproc ", "numprocs", "num"}) {
    auto r = ovz::parse_ubc_resource(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().message() == std::string("Unknown beancounter \"") + bad + "\"");
  }
}

TEST_CASE("counts_pages is true for the *pages resources only", "[beancounter]") {
  int pages = 0;
  for (auto r : ovz::all_ubc_resources()) {
    bool named_pages = std::string(ovz::to_string(r)).ends_with("pages");
    CHECK(ovz::counts_pages(r) == named_pages);
    pages += ovz::counts_pages(r);
  }
  CHECK(pages == 7);
}

TEST_CASE("parse_ubc_value: a lone value sets barrier and limit", "[beancounter]") {
  CHECK(parsed(ubc_resource::numproc, "240") == ubc_value{240, 240});
  CHECK(parsed(ubc_resource::numproc, "0") == ubc_value{0, 0});
  CHECK(parsed(ubc_resource::numproc, "100:200") == ubc_value{100, 200});
  CHECK(parsed(ubc_resource::numproc, "7:7") == ubc_value{7, 7});
  CHECK(parsed(ubc_resource::numproc, "9223372036854775807") ==
        ubc_value{ubc_unlimited, ubc_unlimited});
}

TEST_CASE("parse_ubc_value: K, M, G, T are binary multiples of bytes", "[beancounter]") {
  auto r = ubc_resource::kmemsize;
  CHECK(parsed(r, "1K") == ubc_value{1024, 1024});
  CHECK(parsed(r, "3k") == ubc_value{3072, 3072});
  CHECK(parsed(r, "2M") == ubc_value{2097152, 2097152});
  CHECK(parsed(r, "5m:6M") == ubc_value{5242880, 6291456});
  CHECK(parsed(r, "1G") == ubc_value{1073741824, 1073741824});
  CHECK(parsed(r, "1g:2g") == ubc_value{1073741824, 2147483648});
  CHECK(parsed(r, "1T") == ubc_value{1099511627776, 1099511627776});
  CHECK(parsed(r, "4t") == ubc_value{4398046511104, 4398046511104});
  // The multipliers apply to item counts too, as in vzctl.
  CHECK(parsed(ubc_resource::numfile, "8K") == ubc_value{8192, 8192});
  // The largest T value that stays at or below LONG_MAX.
  CHECK(parsed(r, "8388607T") == ubc_value{9223370937343148032, 9223370937343148032});
}

TEST_CASE("parse_ubc_value: *pages take bytes with a suffix, pages without", "[beancounter]") {
  auto r = ubc_resource::physpages;
  CHECK(parsed(r, "256M") == ubc_value{65536, 65536});
  CHECK(parsed(r, "0:256M") == ubc_value{0, 65536});
  CHECK(parsed(r, "1G:2G") == ubc_value{262144, 524288});
  CHECK(parsed(r, "4K") == ubc_value{1, 1});
  CHECK(parsed(r, "1T") == ubc_value{268435456, 268435456});
  // A size that is not a whole number of pages rounds up.
  CHECK(parsed(r, "1K") == ubc_value{1, 1});
  CHECK(parsed(r, "5K:9K") == ubc_value{2, 3});
  // Bare numbers and P are pages already.
  CHECK(parsed(r, "65536") == ubc_value{65536, 65536});
  CHECK(parsed(r, "100P:200p") == ubc_value{100, 200});
  CHECK(parsed(ubc_resource::swappages, "0:512M") == ubc_value{0, 131072});
  CHECK(parsed(ubc_resource::privvmpages, "1P") == ubc_value{1, 1});
  // Bytes above LONG_MAX may still be a valid number of pages.
  CHECK(parsed(r, "9000000T") == ubc_value{2415919104000000, 2415919104000000});
}

TEST_CASE("parse_ubc_value: unlimited", "[beancounter]") {
  CHECK(parsed(ubc_resource::numproc, "unlimited") == ubc_value{ubc_unlimited, ubc_unlimited});
  CHECK(parsed(ubc_resource::physpages, "0:unlimited") == ubc_value{0, ubc_unlimited});
  CHECK(parsed(ubc_resource::numfile, "unlimited:unlimited") ==
        ubc_value{ubc_unlimited, ubc_unlimited});
  CHECK(ubc_value{} == ubc_value{ubc_unlimited, ubc_unlimited});
}

TEST_CASE("parse_ubc_value refuses bad values, naming the resource and text", "[beancounter]") {
  auto numproc = ubc_resource::numproc;
  CHECK(refusal(numproc, "12Q") == "Invalid value \"12Q\" for numproc: unknown suffix 'Q'");
  CHECK(refusal(numproc, "12KB") == "Invalid value \"12KB\" for numproc: unknown suffix 'KB'");
  CHECK(refusal(numproc, "-1") ==
        "Invalid value \"-1\" for numproc: negative values are not allowed");
  CHECK(refusal(numproc, "10:-1") ==
        "Invalid value \"10:-1\" for numproc: negative values are not allowed");
  CHECK(refusal(numproc, "1:0") == "Invalid value \"1:0\" for numproc: limit 0 is below barrier 1");
  CHECK(refusal(numproc, "20:10") ==
        "Invalid value \"20:10\" for numproc: limit 10 is below barrier 20");
  CHECK(refusal(numproc, "unlimited:5") ==
        "Invalid value \"unlimited:5\" for numproc: limit 5 is below barrier 9223372036854775807");
  CHECK(refusal(numproc, "abc") == "Invalid value \"abc\" for numproc: not a number");
  CHECK(refusal(numproc, "") == "Invalid value \"\" for numproc: missing number");
  CHECK(refusal(numproc, "5:") == "Invalid value \"5:\" for numproc: missing number");
  CHECK(refusal(numproc, ":5") == "Invalid value \":5\" for numproc: missing number");
  CHECK(refusal(numproc, "1:2:3") == "Invalid value \"1:2:3\" for numproc: expected B or B:L");
  CHECK(refusal(numproc, "10P") ==
        "Invalid value \"10P\" for numproc: suffix 'P' (pages) applies only to the *pages "
        "resources");
  CHECK(refusal(ubc_resource::kmemsize, "1p") ==
        "Invalid value \"1p\" for kmemsize: suffix 'P' (pages) applies only to the *pages "
        "resources");
  const std::string too_large = "too large (the most is 9223372036854775807)";
  CHECK(refusal(numproc, "99999999999T") ==
        "Invalid value \"99999999999T\" for numproc: " + too_large);
  CHECK(refusal(ubc_resource::physpages, "99999999999T") ==
        "Invalid value \"99999999999T\" for physpages: " + too_large);
  CHECK(refusal(numproc, "9223372036854775808") ==
        "Invalid value \"9223372036854775808\" for numproc: " + too_large);
  CHECK(refusal(numproc, "99999999999999999999999") ==
        "Invalid value \"99999999999999999999999\" for numproc: " + too_large);
  CHECK(refusal(numproc, "8388608T") == "Invalid value \"8388608T\" for numproc: " + too_large);
  for (const char* garbage :
       {"+1", " 1", "1 ", "1.5G", "0x10", "Unlimited", "unlimitedK", "K", "1,2", "1 : 2"}) {
    INFO(garbage);
    CHECK(refusal(numproc, garbage)
              .starts_with(std::string("Invalid value \"") + garbage + "\" for numproc: "));
  }
}

TEST_CASE("format_ubc_value writes B:L with unlimited, and reads back", "[beancounter]") {
  CHECK(ovz::format_ubc_value({100, 200}) == "100:200");
  CHECK(ovz::format_ubc_value({0, 0}) == "0:0");
  CHECK(ovz::format_ubc_value({0, ubc_unlimited}) == "0:unlimited");
  CHECK(ovz::format_ubc_value({}) == "unlimited:unlimited");
  for (ubc_value v : {ubc_value{0, 65536}, ubc_value{7, 7}, ubc_value{1, ubc_unlimited},
                      ubc_value{ubc_unlimited - 1, ubc_unlimited}, ubc_value{}}) {
    for (auto r : {ubc_resource::numproc, ubc_resource::physpages}) {
      CHECK(MUST(ovz::parse_ubc_value(r, ovz::format_ubc_value(v))) == v);
    }
  }
}
