#include <optional>
#include <ovz/cpu.hpp>
#include <string>

#include "cpu_list.hpp"
#include "kernel/cpu_weight.hpp"
#include "model/cpu_math.hpp"
#include "support/temp_root.hpp"

using ovz::cpu_params;
using ovz::errc;
using ovz::detail::quota_us;
using ovz::detail::shares_from_cpuunits;
using ovz::detail::take_cpus;
using ovz::detail::weight_from_shares;

namespace {

std::string mask_refusal(const char* text) {
  INFO('"' << text << '"');
  auto r = ovz::parse_cpumask(text);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::invalid_argument));
  return r.error().message();
}

std::string params_refusal(const cpu_params& p) {
  auto r = ovz::check_cpu_params(p);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::invalid_argument));
  return r.error().message();
}

}  // namespace

TEST_CASE("parse_cpumask canonicalizes CPU lists", "[cpu]") {
  CHECK(MUST(ovz::parse_cpumask("all")) == "all");
  CHECK(MUST(ovz::parse_cpumask("0")) == "0");
  CHECK(MUST(ovz::parse_cpumask("0-3,6")) == "0-3,6");
  CHECK(MUST(ovz::parse_cpumask("3,0-1,2")) == "0-3");
  CHECK(MUST(ovz::parse_cpumask("6,0-3")) == "0-3,6");
  CHECK(MUST(ovz::parse_cpumask("1,1,1")) == "1");
  CHECK(MUST(ovz::parse_cpumask("0-1")) == "0-1");
  CHECK(MUST(ovz::parse_cpumask("5-5")) == "5");
  CHECK(MUST(ovz::parse_cpumask("0-4,2-7,9,11-12,10")) == "0-7,9-12");
  CHECK(MUST(ovz::parse_cpumask("007")) == "7");
  CHECK(MUST(ovz::parse_cpumask("4095")) == "4095");
  CHECK(MUST(ovz::parse_cpumask("4094-4095,0")) == "0,4094-4095");
  CHECK(MUST(ovz::parse_cpumask("0-4095")) == "0-4095");
}

TEST_CASE("parse_cpumask refuses garbage, naming it", "[cpu]") {
  CHECK(mask_refusal("") == "Invalid cpumask \"\": empty (give a list like 0-3,6 or \"all\")");
  CHECK(mask_refusal("3-1") == "Invalid cpumask \"3-1\": \"3-1\" is a reversed range");
  CHECK(mask_refusal("0,4096") ==
        "Invalid cpumask \"0,4096\": \"4096\": CPU numbers go from 0 to 4095");
  CHECK(mask_refusal("0-99999999999") ==
        "Invalid cpumask \"0-99999999999\": \"0-99999999999\": CPU numbers go from 0 to 4095");
  CHECK(mask_refusal("0, 1") ==
        "Invalid cpumask \"0, 1\": \" 1\" is not a CPU number or a range N-M");
  for (const char* bad : {"x", "ALL", "all,1", "0,", ",0", "0,,1", "-1", "1-", "-", "1-2-3", "+1",
                          "0x1", "1 ", " 1", "0;1", "1.5"}) {
    CHECK(mask_refusal(bad).starts_with(std::string("Invalid cpumask \"") + bad + "\": "));
  }
}

TEST_CASE("check_cpu_params checks ranges and the mask", "[cpu]") {
  MUST(ovz::check_cpu_params({}));
  MUST(ovz::check_cpu_params(
      {.cpuunits = 8, .cpulimit = 0, .cpus = 0, .cpumask = std::string("all")}));
  MUST(ovz::check_cpu_params(
      {.cpuunits = 500000, .cpulimit = 409600, .cpus = 4096, .cpumask = std::string("3,0-1")}));
  MUST(ovz::check_cpu_params({.cpuunits = ovz::cpuunits_default}));

  CHECK(params_refusal({.cpuunits = 7}) == "Invalid cpuunits 7: must be from 8 to 500000");
  CHECK(params_refusal({.cpuunits = 500001}) ==
        "Invalid cpuunits 500001: must be from 8 to 500000");
  CHECK(params_refusal({.cpulimit = 409601}) ==
        "Invalid cpulimit 409601: must be from 0 to 409600");
  CHECK(params_refusal({.cpus = 4097}) == "Invalid cpus 4097: must be from 0 to 4096");
  CHECK(params_refusal({.cpuunits = 1000, .cpumask = std::string("2-1")}) ==
        "Invalid cpumask \"2-1\": \"2-1\" is a reversed range");
}

TEST_CASE("cpuunits become cgroup v1 cpu.shares", "[cpu]") {
  CHECK(shares_from_cpuunits(1000) == 1024);  // OpenVZ's default is the kernel's default
  CHECK(shares_from_cpuunits(2000) == 2048);
  CHECK(shares_from_cpuunits(500) == 512);
  CHECK(shares_from_cpuunits(8) == 8);  // 8192 / 1000
  CHECK(shares_from_cpuunits(1) == 2);  // below the kernel's minimum
  CHECK(shares_from_cpuunits(0) == 2);
  CHECK(shares_from_cpuunits(250000) == 256000);
  CHECK(shares_from_cpuunits(256000) == 262144);  // 262144 exactly
  CHECK(shares_from_cpuunits(500000) == 262144);  // clamped to the kernel's maximum
}

TEST_CASE("cpu.shares become cgroup v2 cpu.weight as crun and runc convert them", "[cpu]") {
  // 1 + ((shares - 2) * 9999) / 262142, computed by hand:
  CHECK(weight_from_shares(2) == 1);
  CHECK(weight_from_shares(1024) == 39);    // 1 + 10218978 / 262142 = 1 + 38
  CHECK(weight_from_shares(2048) == 79);    // 1 + 20457954 / 262142 = 1 + 78
  CHECK(weight_from_shares(22000) == 840);  // 1 + 219958002 / 262142 = 1 + 839
  CHECK(weight_from_shares(262144) == 10000);
  CHECK(weight_from_shares(0) == 1);  // clamped to 2 first
  CHECK(weight_from_shares(1000000) == 10000);
  CHECK(weight_from_shares(shares_from_cpuunits(1000)) == 39);
  CHECK(weight_from_shares(shares_from_cpuunits(8)) == 1);
  CHECK(weight_from_shares(shares_from_cpuunits(500000)) == 10000);
}

TEST_CASE("quota_us takes the lower of cpulimit and cpus", "[cpu]") {
  CHECK(quota_us(25, std::nullopt, 100000) == 25000);
  CHECK(quota_us(25, 0, 100000) == 25000);
  CHECK(quota_us(150, std::nullopt, 100000) == 150000);
  CHECK(quota_us(std::nullopt, 2, 100000) == 200000);
  CHECK(quota_us(0, 2, 100000) == 200000);
  CHECK(quota_us(300, 2, 100000) == 200000);
  CHECK(quota_us(50, 2, 100000) == 50000);
  CHECK(quota_us(409600, 4096, 1000000) == 4096000000);
  CHECK(quota_us(1, std::nullopt, 250000) == 2500);
  CHECK(quota_us(std::nullopt, std::nullopt, 100000) == std::nullopt);
  CHECK(quota_us(0, 0, 100000) == std::nullopt);
  CHECK(quota_us(0, std::nullopt, 100000) == std::nullopt);
}

TEST_CASE("take_cpus gives a VE its CPUs of the parent's, consecutive VEs taking turns",
          "[cpu]") {
  auto take = [](const char* available, std::uint32_t count, std::uint64_t start) {
    auto r = take_cpus(available, count, start);
    REQUIRE(r);
    return *r;
  };
  // As the kernel prints them, with its newline.
  CHECK(take("0-1\n", 1, 100) == "0");
  CHECK(take("0-1\n", 1, 101) == "1");
  CHECK(take("0-7", 2, 2 * 101) == "2-3");
  CHECK(take("0-7", 3, 3 * 3) == "1-3");
  CHECK(take("0-7", 3, 3 * 2) == "0,6-7");  // wraps round
  CHECK(take("0,2,4-5", 2, 2 * 1) == "4-5");  // positions in the list, not CPU numbers
  CHECK(take("0,2,4-5", 3, 3 * 1) == "0,2,5");
  // No narrowing: none asked, or as many as there are or more.
  CHECK(take("0-3", 0, 0) == "");
  CHECK(take("0-3", 4, 4 * 7) == "");
  CHECK(take("0-3", 9, 9) == "");
  CHECK_FALSE(take_cpus("", 1, 0));
  CHECK_FALSE(take_cpus("0-x", 1, 0));
}
