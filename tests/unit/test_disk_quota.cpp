#include <ovz/config.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/ve_params.hpp>

#include "support/temp_root.hpp"

#include <string>

using ovz::disk_limit;
using ovz::errc;

namespace {

std::string refusal(const char* text, bool blocks) {
  INFO('"' << text << '"');
  auto r = ovz::parse_disk_limit(text, blocks);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::invalid_argument));
  return r.error().message();
}

}  // namespace

TEST_CASE("DISKSPACE takes 1 KiB blocks and vzctl's suffixes, DISKINODES plain counts",
          "[disk]") {
  CHECK(MUST(ovz::parse_disk_limit("1000:2000", true)) == disk_limit{1000, 2000});
  CHECK(MUST(ovz::parse_disk_limit("1G", true)) == disk_limit{1048576, 1048576});
  CHECK(MUST(ovz::parse_disk_limit("900M:1g", true)) == disk_limit{921600, 1048576});
  CHECK(MUST(ovz::parse_disk_limit("1t", true)).hard == 1073741824);
  CHECK(MUST(ovz::parse_disk_limit("1536K", true)).hard == 1536);
  CHECK(MUST(ovz::parse_disk_limit("200000:220000", false)) == disk_limit{200000, 220000});
  CHECK(ovz::format_disk_limit({1, 2}) == "1:2");

  CHECK(refusal("2000:1000", true).find("soft limit 2000 is above hard limit 1000") !=
        std::string::npos);
  CHECK(refusal("1M", false).find("unknown suffix 'M'") != std::string::npos);
  CHECK(refusal("1X", true).find("unknown suffix 'X'") != std::string::npos);
  CHECK(refusal("unlimited", true).find("has a size") != std::string::npos);
  CHECK(refusal("1:2:3", true).find("SOFT or SOFT:HARD") != std::string::npos);
  CHECK(refusal("-1", true).find("not a number") != std::string::npos);
  CHECK(refusal("", true).find("missing number") != std::string::npos);
  CHECK(refusal("99999999999999999999", true).find("too large") != std::string::npos);
  CHECK(refusal("99999999999T", true).find("too large") != std::string::npos);
}

TEST_CASE("disk settings below what a VE's image needs are refused, naming the key", "[disk]") {
  auto refused = [](const ovz::disk_params& p) {
    auto r = ovz::check_disk_params(p);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    return r.error().message();
  };
  CHECK(refused({.diskspace = disk_limit{1000, 1000}}).find("DISKSPACE") == 0);
  CHECK(refused({.diskinodes = disk_limit{10, 10}}).find("DISKINODES") == 0);
  CHECK(ovz::check_disk_params({.diskspace = disk_limit{16384, 16384},
                                .diskinodes = disk_limit{1024, 2048}}));
}

TEST_CASE("disk settings go through CTID.conf in OpenVZ's keys", "[disk][config]") {
  ovz::ve_config conf;
  ovz::ve_params p;
  p.disk = {.diskspace = disk_limit{1048576, 1153434}, .diskinodes = disk_limit{200000, 220000},
            .quotatime = 600, .quotaugidlimit = 0};
  MUST(ovz::params_to_config(p, conf));
  CHECK(conf.get("DISKSPACE") == "1048576:1153434");
  CHECK(conf.get("DISKINODES") == "200000:220000");
  CHECK(conf.get("QUOTATIME") == "600");
  CHECK(conf.get("QUOTAUGIDLIMIT") == "0");
  CHECK(MUST(ovz::params_from_config(conf)).disk == p.disk);

  // As vzctl writes them by hand too: suffixes, and one value for both limits.
  MUST(conf.set("DISKSPACE", "10G"));
  CHECK(MUST(ovz::params_from_config(conf)).disk.diskspace == disk_limit{10485760, 10485760});
  MUST(conf.set("DISKSPACE", "10G:1G"));
  auto bad = ovz::params_from_config(conf);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(errc::bad_config));
  CHECK(bad.error().message().find("DISKSPACE") != std::string::npos);
  MUST(conf.set("DISKSPACE", "10M"));
  bad = ovz::params_from_config(conf);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("DISKSPACE: hard limit 10240 is below the minimum") !=
        std::string::npos);
}

TEST_CASE("quota is printed in vzquota stat's layout", "[disk]") {
  ovz::disk_quota q{.blocks = {.usage = 540172, .soft = 1048576, .hard = 1153434},
                    .inodes = {.usage = 21372, .soft = 200000, .hard = 220000, .grace = 3600}};
  CHECK(ovz::format_disk_quota(q) ==
        "   resource          usage      softlimit      hardlimit    grace\n"
        "  1k-blocks         540172        1048576        1153434         \n"
        "     inodes          21372         200000         220000     3600\n");
}
