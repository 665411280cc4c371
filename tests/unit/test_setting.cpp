#include <ovz/setting.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace ovz;

namespace {

std::string refusal(std::string_view name, std::string_view value) {
  ve_changes c;
  c.hostname = "before";
  auto r = parse_setting(name, value, c);
  if (r) FAIL("accepted " << name << "=" << value);
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(c.hostname == "before");  // a refusal leaves what was collected as it was
  CHECK(c.params.ubc.empty());
  return r.error().message();
}

}  // namespace

TEST_CASE("every vzctl setting name lands in its part of ve_changes", "[setting]") {
  ve_changes c;
  for (auto [name, value] : {std::pair{"hostname", "web"}, {"NUMPROC", "64:128"},
                             {"physpages", "1G"}, {"cpuunits", "2000"}, {"cpulimit", "50"},
                             {"cpus", "2"}, {"cpumask", "0-1"}, {"capability", "net_admin:on"},
                             {"capability", "sys_time:off"}, {"devnodes", "net/tun:rw"},
                             {"seccomp_profile", "unconfined"}, {"no_new_privs", "yes"},
                             {"ipadd", "10.0.0.2"}, {"ipdel", "all"},
                             {"netif_add", "eth0,,,,vmbr0"}, {"netif_del", "eth1"},
                             {"stop_timeout", "30"}})
    REQUIRE(parse_setting(name, value, c));
  CHECK(c.hostname == "web");
  REQUIRE(c.params.ubc.size() == 2);
  CHECK(c.params.ubc[0].first == ubc_resource::numproc);
  CHECK(c.params.ubc[0].second.limit == 128);
  CHECK(c.params.ubc[1].second.barrier == 262144);  // 1G in pages
  CHECK(c.params.cpu.cpuunits == 2000u);
  CHECK(c.params.cpu.cpulimit == 50u);
  CHECK(c.params.cpu.cpus == 2u);
  CHECK(c.params.cpu.cpumask == "0-1");
  CHECK(c.security.capabilities.size() == 2);  // lists grow
  CHECK(c.security.devnodes.size() == 1);
  CHECK(c.security.seccomp_profile == "unconfined");
  CHECK(c.security.no_new_privs == true);
  CHECK(c.network.add_ips.size() == 1);
  CHECK(c.network.del_all_ips);
  CHECK(c.network.add_netifs.at(0).bridge == "vmbr0");
  CHECK(c.network.del_netifs == std::vector<std::string>{"eth1"});
  CHECK(c.stop_timeout == std::chrono::seconds(30));

  CHECK(setting_kind_of("Numproc") == setting_kind::resource);
  CHECK(setting_kind_of("devnodes") == setting_kind::security);
  CHECK(setting_kind_of("ipdel") == setting_kind::network);
  CHECK(setting_kind_of("hostname") == setting_kind::hostname);
  CHECK(setting_kind_of("STOP_TIMEOUT") == setting_kind::lifecycle);
  CHECK(setting_kind_of("onboot") == setting_kind::lifecycle);
  CHECK(setting_kind_of("NameServer") == setting_kind::resolver);
  CHECK(setting_kind_of("searchdomain") == setting_kind::resolver);
  CHECK_FALSE(setting_kind_of("ram"));
}

TEST_CASE("nameserver and searchdomain grow lists; onboot is yes or no", "[setting]") {
  ve_changes c;
  for (auto [name, value] : {std::pair{"nameserver", "192.0.2.1"}, {"nameserver", "2001:db8::1"},
                             {"searchdomain", "example.com"}, {"onboot", "yes"}})
    REQUIRE(parse_setting(name, value, c));
  CHECK(c.nameservers == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});
  CHECK(c.searchdomains == std::vector<std::string>{"example.com"});
  CHECK(c.onboot == true);
  REQUIRE(parse_setting("onboot", "no", c));
  CHECK(c.onboot == false);
  CHECK_THAT(refusal("nameserver", "1.2.3"), Catch::StartsWith("nameserver: "));
  CHECK_THAT(refusal("searchdomain", "bad domain"), Catch::StartsWith("searchdomain: "));
  CHECK_THAT(refusal("onboot", "true"), Catch::Contains("yes or no"));
  // "inherit" stands alone: a refusal leaves the list as it was.
  REQUIRE_FALSE(parse_setting("nameserver", "inherit", c));
  ve_changes d;
  REQUIRE(parse_setting("nameserver", "inherit", d));
  auto r = parse_setting("nameserver", "192.0.2.1", d);
  REQUIRE_FALSE(r);
  CHECK(d.nameservers == std::vector<std::string>{"inherit"});
}

TEST_CASE("a bad setting is refused naming it, and nothing is added", "[setting]") {
  CHECK_THAT(refusal("ram", "1G"), Catch::StartsWith("unknown setting \"ram\""));
  CHECK_THAT(refusal("numproc", "10:5"), Catch::StartsWith("numproc: ") && Catch::Contains("below barrier"));
  CHECK_THAT(refusal("cpuunits", "lots"), Catch::Equals("cpuunits: \"lots\" is not a number"));
  CHECK_THAT(refusal("stop_timeout", "1m"),
             Catch::Equals("stop_timeout: \"1m\" is not a number of seconds from 0 to 86400"));
  CHECK_THAT(refusal("stop_timeout", "86401"), Catch::StartsWith("stop_timeout: "));
  CHECK_THAT(refusal("cpuunits", "7"), Catch::StartsWith("cpuunits: "));
  CHECK_THAT(refusal("cpus", "-1"), Catch::StartsWith("cpus: "));
  CHECK_THAT(refusal("cpumask", "2-1"), Catch::StartsWith("cpumask: "));
  CHECK_THAT(refusal("capability", "bogus:on"), Catch::StartsWith("capability: "));
  CHECK_THAT(refusal("seccomp_profile", "web"), Catch::Contains("absolute path"));
  CHECK_THAT(refusal("no_new_privs", "on"), Catch::Contains("yes or no"));
  CHECK_THAT(refusal("ipadd", "10.0.0.300"), Catch::StartsWith("ipadd: Invalid IP address"));
  CHECK_THAT(refusal("ipdel", "everything"), Catch::StartsWith("ipdel: "));
  CHECK_THAT(refusal("netif_add", "eth0,nomac"), Catch::StartsWith("netif_add: "));
  CHECK_THAT(refusal("netif_del", ""), Catch::StartsWith("netif_del: "));
}

TEST_CASE("disk settings: vzctl's diskspace, diskinodes, quotatime and quotaugidlimit",
          "[setting][disk]") {
  ve_changes c;
  for (auto [name, value] : {std::pair{"diskspace", "1G:1100M"}, {"DISKINODES", "200000"},
                             {"quotatime", "600"}, {"quotaugidlimit", "0"}})
    REQUIRE(parse_setting(name, value, c));
  CHECK(c.params.disk.diskspace == disk_limit{1048576, 1126400});
  CHECK(c.params.disk.diskinodes == disk_limit{200000, 200000});
  CHECK(c.params.disk.quotatime == 600u);
  CHECK(c.params.disk.quotaugidlimit == 0u);
  CHECK(setting_kind_of("DiskSpace") == setting_kind::resource);
  CHECK(setting_kind_of("quotaugidlimit") == setting_kind::resource);

  // A later value replaces an earlier one; a refused one leaves the others as they were.
  REQUIRE(parse_setting("diskspace", "2G", c));
  CHECK(c.params.disk.diskspace == disk_limit{2097152, 2097152});
  const auto before = c.params.disk;
  for (auto [name, value] : {std::pair{"diskspace", "1M"}, {"diskspace", "2G:1G"},
                             {"diskinodes", "100"}, {"diskinodes", "1K"}, {"quotatime", "1h"},
                             {"quotaugidlimit", "-1"}, {"diskspace", "unlimited"}}) {
    INFO(name << "=" << value);
    auto r = parse_setting(name, value, c);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK_THAT(r.error().message(), Catch::StartsWith(std::string(name) + ": "));
  }
  CHECK(c.params.disk == before);
  CHECK_THAT(refusal("diskspace", "1M"), Catch::Contains("below the minimum"));
  CHECK_THAT(refusal("quotatime", "1h"), Catch::Equals("quotatime: \"1h\" is not a number"));
}
