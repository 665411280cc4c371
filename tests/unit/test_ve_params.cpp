#include <ovz/config.hpp>
#include <ovz/ve_params.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/temp_root.hpp"

using ovz::errc;
using ovz::ubc_resource;
using ovz::ubc_unlimited;
using ovz::ubc_value;
using ovz::ve_config;
using ovz::ve_params;

namespace {

ve_config config(const std::string& text) { return MUST(ve_config::parse(text)); }

std::string refusal(const std::string& text) {
  INFO(text);
  auto r = ovz::params_from_config(config(text));
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::bad_config));
  return r.error().message();
}

}  // namespace

TEST_CASE("params_from_config reads beancounters and CPU settings", "[ve_params]") {
  auto p =
      MUST(ovz::params_from_config(config("ONBOOT=\"yes\"\n"
                                          "# RAM\n"
                                          "PHYSPAGES=\"0:256M\"\n"
                                          "SWAPPAGES=\"0:131072\"\n"
                                          "NUMPROC=\"240:unlimited\"\n"
                                          "KMEMSIZE=\"unlimited\"\n"
                                          "CPUUNITS=\"1000\"\n"
                                          "CPULIMIT=\"50\"\n"
                                          "CPUS=\"2\"\n"
                                          "CPUMASK=\"3,0-2\"\n"
                                          "HOSTNAME=\"ct101\"\n")));
  // In report order, whatever the order of the file.
  std::vector<std::pair<ubc_resource, ubc_value>> ubc = {
      {ubc_resource::kmemsize, {ubc_unlimited, ubc_unlimited}},
      {ubc_resource::numproc, {240, ubc_unlimited}},
      {ubc_resource::physpages, {0, 65536}},
      {ubc_resource::swappages, {0, 131072}},
  };
  CHECK(p.ubc == ubc);
  CHECK(p.cpu.cpuunits == 1000u);
  CHECK(p.cpu.cpulimit == 50u);
  CHECK(p.cpu.cpus == 2u);
  CHECK(p.cpu.cpumask == "0-3");
}

TEST_CASE("params_from_config leaves absent settings unset", "[ve_params]") {
  auto p = MUST(ovz::params_from_config(config("HOSTNAME=\"ct101\"\n")));
  CHECK(p.ubc.empty());
  CHECK_FALSE(p.cpu.cpuunits);
  CHECK_FALSE(p.cpu.cpulimit);
  CHECK_FALSE(p.cpu.cpus);
  CHECK_FALSE(p.cpu.cpumask);
  CHECK(MUST(ovz::params_from_config(config(""))).ubc.empty());
}

TEST_CASE("params_from_config refuses bad values, naming the key", "[ve_params]") {
  CHECK(refusal("NUMPROC=\"1:0\"\n") ==
        "CTID.conf: NUMPROC: Invalid value \"1:0\" for numproc: limit 0 is below barrier 1");
  CHECK(refusal("NUMPROC=\"10P\"\n") ==
        "CTID.conf: NUMPROC: Invalid value \"10P\" for numproc: suffix 'P' (pages) applies "
        "only to the *pages resources");
  CHECK(refusal("PHYSPAGES=\"\"\n") ==
        "CTID.conf: PHYSPAGES: Invalid value \"\" for physpages: missing number");
  CHECK(refusal("CPUUNITS=\"abc\"\n") == "CTID.conf: CPUUNITS: \"abc\" is not a number");
  CHECK(refusal("CPUUNITS=\"-5\"\n") == "CTID.conf: CPUUNITS: \"-5\" is not a number");
  CHECK(refusal("CPUUNITS=\"99999999999\"\n") ==
        "CTID.conf: CPUUNITS: \"99999999999\" is not a number");
  CHECK(refusal("CPUUNITS=\"5\"\n") ==
        "CTID.conf: CPUUNITS: Invalid cpuunits 5: must be from 8 to 500000");
  CHECK(refusal("CPULIMIT=\"25%\"\n") == "CTID.conf: CPULIMIT: \"25%\" is not a number");
  CHECK(refusal("CPULIMIT=\"500000\"\n") ==
        "CTID.conf: CPULIMIT: Invalid cpulimit 500000: must be from 0 to 409600");
  CHECK(refusal("CPUS=\"\"\n") == "CTID.conf: CPUS: \"\" is not a number");
  CHECK(refusal("CPUS=\"5000\"\n") == "CTID.conf: CPUS: Invalid cpus 5000: must be from 0 to 4096");
  CHECK(refusal("CPUMASK=\"1-0\"\n") ==
        "CTID.conf: CPUMASK: Invalid cpumask \"1-0\": \"1-0\" is a reversed range");
}

TEST_CASE("params_to_config writes OpenVZ's keys and reads back", "[ve_params]") {
  ve_params p;
  p.ubc = {{ubc_resource::kmemsize, {14372700, 14790164}},
           {ubc_resource::numproc, {240, 240}},
           {ubc_resource::physpages, {0, 65536}},
           {ubc_resource::swappages, {0, ubc_unlimited}}};
  p.cpu = {.cpuunits = 1000, .cpulimit = 0, .cpus = 2, .cpumask = std::string("3,0-1,2,7")};

  auto conf = config("# kept\nHOSTNAME=\"ct101\"\nNUMPROC=\"1:1\"\n");
  MUST(ovz::params_to_config(p, conf));
  CHECK(conf.serialize() ==
        "# kept\n"
        "HOSTNAME=\"ct101\"\n"
        "NUMPROC=\"240:240\"\n"
        "KMEMSIZE=\"14372700:14790164\"\n"
        "PHYSPAGES=\"0:65536\"\n"
        "SWAPPAGES=\"0:unlimited\"\n"
        "CPUUNITS=\"1000\"\n"
        "CPULIMIT=\"0\"\n"
        "CPUS=\"2\"\n"
        "CPUMASK=\"0-3,7\"\n");

  auto back = MUST(ovz::params_from_config(MUST(ve_config::parse(conf.serialize()))));
  CHECK(back.ubc == p.ubc);
  CHECK(back.cpu.cpuunits == p.cpu.cpuunits);
  CHECK(back.cpu.cpulimit == p.cpu.cpulimit);
  CHECK(back.cpu.cpus == p.cpu.cpus);
  CHECK(back.cpu.cpumask == "0-3,7");
}

TEST_CASE("params_to_config writes only what is set", "[ve_params]") {
  auto conf = config("CPUUNITS=\"500\"\n");
  ve_params p;
  p.cpu.cpulimit = 25;
  MUST(ovz::params_to_config(p, conf));
  CHECK(conf.serialize() == "CPUUNITS=\"500\"\nCPULIMIT=\"25\"\n");
}

TEST_CASE("params_to_config refuses bad settings before writing any", "[ve_params]") {
  const std::string text = "HOSTNAME=\"ct101\"\n";
  auto refused = [&](const ve_params& p) {
    auto conf = config(text);
    auto r = ovz::params_to_config(p, conf);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(conf.serialize() == text);
    return r.error().message();
  };
  ve_params below;
  below.ubc = {{ubc_resource::numproc, {240, 240}}, {ubc_resource::numfile, {20, 10}}};
  CHECK(refused(below) == "Invalid value \"20:10\" for numfile: limit 10 is below barrier 20");

  ve_params too_large;
  too_large.ubc = {{ubc_resource::numproc, {1, ubc_unlimited + 1}}};
  CHECK(refused(too_large) ==
        "Invalid value \"1:9223372036854775808\" for numproc: too large (the most is "
        "9223372036854775807)");

  ve_params units;
  units.ubc = {{ubc_resource::numproc, {240, 240}}};
  units.cpu.cpuunits = 1;
  CHECK(refused(units) == "Invalid cpuunits 1: must be from 8 to 500000");

  ve_params mask;
  mask.cpu.cpumask = "0-";
  CHECK(refused(mask) == "Invalid cpumask \"0-\": \"0-\" is not a CPU number or a range N-M");
}

TEST_CASE("check_bootable refuses what no VE boots with, naming the minimum", "[ve_params]") {
  auto with = [](ubc_resource r, ubc_value v) {
    ve_params p;
    p.ubc.push_back({r, v});
    return p;
  };
  struct refusal {
    ve_params p;
    const char* says;
  };
  ve_params no_cpu;
  no_cpu.cpu.cpus = 0;
  for (const auto& [p, says] :
       {refusal{with(ubc_resource::numproc, {0, 0}), "numproc 0 is too small for a VE to boot: the minimum is 8"},
        refusal{with(ubc_resource::physpages, {0, 20}), "physpages 20 is too small for a VE to boot: the minimum is 4096 pages (16M)"},
        refusal{with(ubc_resource::numfile, {10, 1000}), "numfile 10 is too small for a VE to boot: the minimum is 64"},
        refusal{no_cpu, "cpus 0 is too small for a VE to boot: the minimum is 1"}}) {
    auto r = ovz::check_bootable(p);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().message() == says);
  }
  ve_params enough;
  enough.ubc = {{ubc_resource::numproc, {8, 8}},
                {ubc_resource::physpages, {0, 4096}},
                {ubc_resource::numfile, {64, 64}},
                {ubc_resource::numpty, {0, 0}},
                {ubc_resource::kmemsize, {0, 0}}};
  enough.cpu.cpus = 1;
  CHECK(ovz::check_bootable(enough));
  CHECK(ovz::check_bootable(with(ubc_resource::numproc, {ubc_unlimited, ubc_unlimited})));
  CHECK(ovz::check_bootable(ve_params{}));
}
