#include <catch2/catch.hpp>

#include <ovz/network.hpp>

#include "model/network.hpp"

using namespace ovz;

namespace {
ctid id(std::uint32_t n) { return *ctid::from_number(n); }
}  // namespace

TEST_CASE("IP addresses parse as vzctl takes them, with an optional prefix", "[network]") {
  auto a = ip_address::parse("10.0.0.2");
  REQUIRE(a);
  CHECK(a->family == AF_INET);
  CHECK_FALSE(a->prefix);
  CHECK(a->str() == "10.0.0.2");
  auto b = ip_address::parse("FD00::2/64");
  REQUIRE(b);
  CHECK(b->family == AF_INET6);
  CHECK(b->prefix == 64u);
  CHECK(b->str() == "fd00::2/64");
  CHECK(b->same_host(*ip_address::parse("fd00::2")));
  CHECK_FALSE(*b == *ip_address::parse("fd00::2"));
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1/33", "fd00::/129", "10.0.0.1/",
                          "10.0.0.1/x", "host.example.com", " 10.0.0.1"}) {
    INFO(bad);
    auto r = ip_address::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().message().find("Invalid IP address") != std::string::npos);
  }
}

TEST_CASE("addresses a VE may not have on venet0 are refused", "[network]") {
  for (const char* bad : {"0.0.0.0", "127.0.0.5", "224.0.0.1", "255.255.255.255", "169.254.0.1",
                          "::", "::1", "ff02::1", "fe80::1"}) {
    INFO(bad);
    CHECK_FALSE(detail::check_ve_address(*ip_address::parse(bad)));
  }
  CHECK(detail::check_ve_address(*ip_address::parse("192.0.2.5/24")));
  CHECK(detail::check_ve_address(*ip_address::parse("2001:db8::5")));
}

TEST_CASE("IP_ADDRESS reads and writes space-separated addresses", "[network]") {
  auto list = parse_ip_addresses("  10.0.0.1 fd00::1/64  10.0.0.2 ");
  REQUIRE(list);
  REQUIRE(list->size() == 3);
  CHECK(format_ip_addresses(*list) == "10.0.0.1 fd00::1/64 10.0.0.2");
  CHECK_FALSE(parse_ip_addresses("10.0.0.1 nonsense"));
}

TEST_CASE("network devices: vzctl's --netif_add comma form and NETIF key=value form", "[network]") {
  auto s = netif_spec::parse("eth0,02:00:00:00:00:01,veth101.0,,vmbr0");
  REQUIRE(s);
  CHECK(s->ifname == "eth0");
  CHECK(s->mac == "02:00:00:00:00:01");
  CHECK(s->host_ifname == "veth101.0");
  CHECK(s->host_mac.empty());
  CHECK(s->bridge == "vmbr0");
  CHECK(s->str() == "eth0,02:00:00:00:00:01,veth101.0,,vmbr0");
  CHECK(netif_spec::parse("eth1")->str() == "eth1");
  for (const char* bad : {"", ",02:00:00:00:00:01", "eth0,1,2,3,4,5", "eth0,01:00:00:00:00:01",
                          "eth0,00:00:00:00:00:00", "eth0,02:00:00:00:00", "a-sixteen-chars0",
                          "eth/0", "venet0", "lo", "eth0,,bad name"}) {
    INFO(bad);
    CHECK_FALSE(netif_spec::parse(bad));
  }

  auto list = parse_netifs(
      "ifname=eth0,mac=02:00:00:00:00:01,host_ifname=veth101.0,host_mac=02:00:00:00:00:02,"
      "bridge=vmbr0,network=x;ifname=eth1");
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].bridge == "vmbr0");
  CHECK((*list)[1].ifname == "eth1");
  CHECK(format_netifs(*list) ==
        "ifname=eth0,mac=02:00:00:00:00:01,host_ifname=veth101.0,host_mac=02:00:00:00:00:02,"
        "bridge=vmbr0;ifname=eth1");
  auto no_name = parse_netifs("mac=02:00:00:00:00:01");
  REQUIRE_FALSE(no_name);
  CHECK(no_name.error().is(errc::bad_config));
}

TEST_CASE("missing names and MACs get vzctl's stable defaults", "[network]") {
  auto first = detail::complete_netif(id(101), *netif_spec::parse("eth0"), {});
  REQUIRE(first);
  CHECK(first->host_ifname == "veth101.0");
  auto again = detail::complete_netif(id(101), *netif_spec::parse("eth0"), {});
  CHECK(again->mac == first->mac);
  CHECK(again->host_mac == first->host_mac);
  CHECK(first->mac != first->host_mac);
  CHECK(detail::parse_mac(first->mac));
  CHECK(first->mac.starts_with("02:"));
  auto other = detail::complete_netif(id(102), *netif_spec::parse("eth0"), {});
  CHECK(other->mac != first->mac);
  auto second = detail::complete_netif(id(101), *netif_spec::parse("eth1"), {*first});
  CHECK(second->host_ifname == "veth101.1");
  // veth2147483647.0 does not fit IFNAMSIZ: the user is told to name it.
  auto long_id = detail::complete_netif(id(2147483647), *netif_spec::parse("eth0"), {});
  REQUIRE_FALSE(long_id);
  CHECK(long_id.error().message().find("host_ifname") != std::string::npos);
  CHECK(detail::complete_netif(id(2147483647), *netif_spec::parse("eth0,,vethbig"), {}));
  CHECK(detail::venet_host_ifname(id(2147483647)).size() <= 15);
}
