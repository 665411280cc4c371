// VE networking on the real kernel, inside the suite's own network namespace (net_host.hpp):
// routed addresses on venet0, bridged veth devices, lo, and that start, stop and failures
// leave nothing of them behind. CTIDs 1200-1299, 11340.

#include "net/net_host.hpp"
#include "support/immutable_dir.hpp"

#include "kernel/files.hpp"
#include "kernel/netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

using namespace ovz;
using namespace ovz::test;

namespace {

// The names of a VE's links, sorted.
std::vector<std::string> ve_links(const ve& v) {
  std::vector<std::string> out;
  for (const auto& l : ve_net_state(v))
    if (l.starts_with("link ")) out.push_back(l.substr(5, l.find(' ', 5) - 5));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ve_addrs(const ve& v) {
  std::vector<std::string> out;
  for (const auto& l : ve_net_state(v))
    if (l.starts_with("addr ") && !l.starts_with("addr lo ") && l.find(" fe80:") == std::string::npos)
      out.push_back(l.substr(5));
  return out;
}

}  // namespace

TEST_CASE("lo is up in every VE, and a VE without network config has only lo", "[net]") {
  require_net_host();
  auto before = host_state();
  {
    running_ve r(1200);
    CHECK(ve_links(r.v) == std::vector<std::string>{"lo"});
    CHECK(sh(r.v, "ping -c 1 -W 2 127.0.0.1").exit_code == 0);
  }
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
}

TEST_CASE("routed: TCP and ICMP between the host and a VE over IPv4 and IPv6", "[net][routed]") {
  require_net_host();
  auto before = host_state();
  {
    temp_root root;
    auto v = root.open(1201);
    MUST(v.create());
    MUST(v.add_ip(addr("10.12.1.1"), true));
    MUST(v.add_ip(addr("fd00:12::1"), true));
    CHECK(MUST(v.config()).get("IP_ADDRESS") == "10.12.1.1 fd00:12::1");
    MUST(v.start());

    CHECK(ve_links(v) == std::vector<std::string>{"lo", "venet0"});
    auto inside = ve_net_state(v);
    CHECK(contains(inside, "addr venet0 10.12.1.1/32"));
    CHECK(contains(inside, "addr venet0 fd00:12::1/128"));
    auto host = host_state();
    CHECK(contains(host, "link venet1201 veth"));
    CHECK(contains(host, "route inet 10.12.1.1 table main"));
    CHECK(contains(host, "route inet6 fd00:12::1 table main"));

    start_echo_server(v, 7001);
    CHECK(tcp_exchange("10.12.1.1", 7001, "hello over IPv4") == "hello over IPv4");
    CHECK(tcp_exchange("fd00:12::1", 7001, "hello over IPv6") == "hello over IPv6");
    auto ping4 = sh(v, std::string("ping -c 1 -W 5 ") + lan_v4);
    INFO(ping4.out << ping4.err);
    CHECK(ping4.exit_code == 0);
    auto ping6 = sh(v, std::string("ping6 -c 1 -W 5 ") + lan_v6);
    INFO(ping6.out << ping6.err);
    CHECK(ping6.exit_code == 0);

    MUST(v.stop());
    INFO(joined(added(before, host_state())));
    CHECK(host_state() == before);
  }
  CHECK(host_state() == before);
}

TEST_CASE("routed: the host answers ARP for a VE address in a LAN subnet, until the VE stops",
          "[net][routed]") {
  require_net_host();
  auto before = host_state();
  running_ve r(1202);
  MUST(r.v.add_ip(addr("192.0.2.50"), false));
  CHECK(contains(host_state(), "proxy lan0 192.0.2.50"));
  // Not saved: only the running VE has it.
  CHECK_FALSE(MUST(r.v.config()).get("IP_ADDRESS"));
  MUST(r.v.del_ip(addr("192.0.2.50"), false));
  CHECK_FALSE(contains(host_state(), "192.0.2.50"));
  MUST(r.v.add_ip(addr("192.0.2.51"), false));
  CHECK(contains(host_state(), "proxy lan0 192.0.2.51"));
  MUST(r.v.stop());
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
}

namespace {

// What a LAN neighbour hears: the frames that leave lan0, read at its peer's end.
class lan_listener {
 public:
  lan_listener() : fd_(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL))) {
    REQUIRE(fd_ >= 0);
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ALL);
    at.sll_ifindex = static_cast<int>(::if_nametoindex("lan0peer"));
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
    timeval tv{0, 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~lan_listener() { ::close(fd_); }
  lan_listener(const lan_listener&) = delete;
  lan_listener& operator=(const lan_listener&) = delete;

  // Whether a frame holding all of `parts` (at their offsets) came within about 3 s.
  bool heard(const std::vector<std::pair<std::size_t, std::string>>& parts) {
    for (int i = 0; i < 15; ++i) {
      std::string f(2048, '\0');
      const ssize_t n = ::recv(fd_, f.data(), f.size(), 0);
      if (n <= 0) continue;
      f.resize(static_cast<std::size_t>(n));
      if (std::ranges::all_of(parts, [&](const auto& p) {
            return f.size() >= p.first + p.second.size() &&
                   f.compare(p.first, p.second.size(), p.second) == 0;
          }))
        return true;
    }
    return false;
  }

 private:
  int fd_;
};

std::string bytes_of(const char* text) {
  const auto a = addr(text);
  return std::string(reinterpret_cast<const char*>(a.bytes.data()), a.family == AF_INET ? 4 : 16);
}

// The MAC of a device of the suite's namespace (/sys shows the machine's).
std::string mac_of(const char* dev) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev, sizeof ifr.ifr_name - 1);
  const bool got = ::ioctl(fd, SIOCGIFHWADDR, &ifr) == 0;
  ::close(fd);
  return got ? std::string(ifr.ifr_hwaddr.sa_data, 6) : std::string();
}

}  // namespace

TEST_CASE("routed: a VE address in a LAN subnet is announced on the LAN, where it may have "
          "been cached at another host",
          "[net][routed]") {
  require_net_host();
  running_ve r(1216);
  const std::string lan_mac = mac_of("lan0");
  REQUIRE(lan_mac.size() == 6);
  {
    lan_listener lan;
    MUST(r.v.add_ip(addr("192.0.2.52"), false));
    // Ethernet broadcast; ARP request (opcode 1) with lan0's MAC, sender = target = the address.
    const std::string ip = bytes_of("192.0.2.52");
    CHECK(lan.heard({{0, std::string(6, '\xff')}, {12, "\x08\x06"}, {20, std::string("\x00\x01", 2)},
                     {22, lan_mac}, {28, ip}, {38, ip}}));
  }
  {
    lan_listener lan;
    MUST(r.v.add_ip(addr("2001:db8::52"), false));
    // IPv6 to all nodes: an ICMPv6 neighbour advertisement (136), override set, for the
    // address, with lan0's MAC as its link-layer option.
    CHECK(lan.heard({{12, "\x86\xdd"}, {38, bytes_of("ff02::1")}, {54, "\x88"},
                     {58, "\x20"}, {62, bytes_of("2001:db8::52")}, {80, lan_mac}}));
  }
}

TEST_CASE("routed: addresses change live, are saved on request and come back at start",
          "[net][routed]") {
  require_net_host();
  running_ve r(1203);
  MUST(r.v.add_ip(addr("10.12.3.1"), true));
  MUST(r.v.add_ip(addr("10.12.3.2"), false));
  CHECK(ve_addrs(r.v) == std::vector<std::string>{"venet0 10.12.3.1/32", "venet0 10.12.3.2/32"});
  CHECK(MUST(r.v.network()).ip_addresses == std::vector<ip_address>{addr("10.12.3.1")});
  start_echo_server(r.v, 7003);
  CHECK(tcp_exchange("10.12.3.2", 7003, "live") == "live");
  MUST(r.v.restart());
  CHECK(ve_addrs(r.v) == std::vector<std::string>{"venet0 10.12.3.1/32"});
  MUST(r.v.del_all_ips(true));
  CHECK(ve_addrs(r.v).empty());
  CHECK_FALSE(MUST(r.v.config()).get("IP_ADDRESS"));
}

TEST_CASE("routed: a VE reaches out again after its only IPv4 address was replaced live",
          "[net][routed]") {
  require_net_host();
  running_ve r(11505);  // CTID from the range of the tests of issue 11
  MUST(r.v.add_ip(addr("10.115.5.1"), false));
  MUST(r.v.del_ip(addr("10.115.5.1"), false));  // the kernel drops the VE's IPv4 routes
  MUST(r.v.add_ip(addr("10.115.5.2"), false));
  auto ping = sh(r.v, std::string("ping -c 1 -W 5 ") + lan_v4);
  INFO(ping.out << ping.err);
  CHECK(ping.exit_code == 0);
}

TEST_CASE("a network change whose save fails is not made live either", "[net][routed]") {
  require_net_host();
  running_ve r(11340);
  const auto conf_before = MUST(r.v.config()).serialize();
  {
    immutable_dir frozen(r.root.path() / "conf");
    if (!frozen.held()) {
      WARN("SKIPPED: the state root's filesystem has no immutable flag (chattr +i)");
      return;
    }
    auto refused = r.v.add_ip(addr("10.12.40.1"), true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("Cannot save") != std::string::npos);
  }
  CHECK(ve_addrs(r.v).empty());
  CHECK(MUST(r.v.config()).serialize() == conf_before);
}

TEST_CASE("routed: two VEs see only their own devices and addresses and reach each other "
          "through the host", "[net][routed]") {
  require_net_host();
  auto before = host_state();
  {
    temp_root root;
    auto a = root.open(1204), b = root.open(1205);
    for (auto* v : {&a, &b}) MUST(v->create());
    MUST(a.add_ip(addr("10.12.4.1"), true));
    MUST(b.add_ip(addr("10.12.5.1"), true));
    MUST(a.start());
    MUST(b.start());
    CHECK(ve_addrs(a) == std::vector<std::string>{"venet0 10.12.4.1/32"});
    CHECK(ve_addrs(b) == std::vector<std::string>{"venet0 10.12.5.1/32"});
    CHECK(ve_links(a) == std::vector<std::string>{"lo", "venet0"});

    start_echo_server(b, 7004);
    auto r = sh(a, "echo across | nc -w 5 10.12.5.1 7004");
    INFO(r.err);
    CHECK(r.out == "across\n");
    CHECK(sh(a, "ping -c 1 -W 5 10.12.5.1").exit_code == 0);
    // Routed: A never resolved B's address on a link; it went to the gateway, the host.
    CHECK_FALSE(contains(ve_net_state(a), "neigh venet0 10.12.5.1"));
    CHECK(contains(ve_net_state(a), "neigh venet0 169.254.0.1"));
  }
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
}

TEST_CASE("routed: IPv6 between two VEs goes through the host once it forwards IPv6",
          "[net][routed]") {
  require_net_host();
  temp_root root;
  auto a = root.open(1214), b = root.open(1215);
  for (auto* v : {&a, &b}) MUST(v->create());
  MUST(a.add_ip(addr("fd00:12:14::1"), true));
  MUST(b.add_ip(addr("fd00:12:15::1"), true));
  MUST(a.start());
  MUST(b.start());
  // IPv6 has no per-device forwarding switch on these kernels: the host's global one decides
  // (the test's own namespace's, here), as the README says.
  const char* all = "/proc/sys/net/ipv6/conf/all/forwarding";
  MUST(detail::write_file(all, "1"));
  auto r = sh(a, "ping6 -c 1 -W 5 fd00:12:15::1");
  MUST(detail::write_file(all, "0"));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("bridged: a veth device in a bridge carries TCP and ICMP between host and VE, and "
          "two VEs talk over the bridge", "[net][bridged]") {
  require_net_host();
  auto host = MUST(detail::netlink::socket::open());
  {
    temp_root root;
    auto a = root.open(1206), b = root.open(1207);
    for (auto* v : {&a, &b}) MUST(v->create());
    MUST(a.add_netif(MUST(netif_spec::parse("eth0,,,,br120")), true));
    MUST(b.add_netif(MUST(netif_spec::parse("eth0,02:00:00:00:12:07,vethb1207,,br120")), true));
    auto saved = MUST(a.network()).netifs;
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].host_ifname == "veth1206.0");
    CHECK(saved[0].bridge == "br120");
    CHECK(saved[0].mac.size() == 17);
    CHECK(MUST(a.config()).get("NETIF") ==
          "ifname=eth0,mac=" + saved[0].mac + ",host_ifname=veth1206.0,host_mac=" +
              saved[0].host_mac + ",bridge=br120");
    MUST(a.start());
    MUST(b.start());
    // The bridge was made; the host takes part in the subnet through it.
    auto br = MUST(host.find_link("br120"));
    REQUIRE(br);
    CHECK(br->kind == "bridge");
    if (auto ok = host.add_address(br->index, addr("10.12.6.254/24")); ok) {
      MUST(host.add_route(addr("10.12.6.0/24"), br->index));
    }
    CHECK(ve_links(a) == std::vector<std::string>{"eth0", "lo"});
    CHECK(sh(a, "ip link show eth0").out.find(saved[0].mac) != std::string::npos);
    REQUIRE(sh(a, "ip addr add 10.12.6.1/24 dev eth0").exit_code == 0);
    REQUIRE(sh(b, "ip addr add 10.12.6.2/24 dev eth0").exit_code == 0);

    start_echo_server(a, 7006);
    CHECK(tcp_exchange("10.12.6.1", 7006, "over the bridge") == "over the bridge");
    CHECK(sh(a, "ping -c 1 -W 5 10.12.6.254").exit_code == 0);
    start_echo_server(b, 7007);
    auto r = sh(a, "echo l2 | nc -w 5 10.12.6.2 7007");
    INFO(r.err);
    CHECK(r.out == "l2\n");
    // Bridged: A resolved B on the link, by B's own MAC.
    CHECK(sh(a, "ip neigh show 10.12.6.2").out.find("02:00:00:00:12:07") != std::string::npos);

    MUST(a.stop());
    MUST(b.stop());
    CHECK_FALSE(MUST(host.find_link("veth1206.0")));
    CHECK_FALSE(MUST(host.find_link("vethb1207")));
    // The bridge is the host's: it stays for the next start.
    CHECK(MUST(host.find_link("br120")));
  }
  auto br = MUST(host.find_link("br120"));
  if (br) MUST(host.delete_link(br->index, "br120"));
}

TEST_CASE("bridged: devices come and go live in a running VE", "[net][bridged]") {
  require_net_host();
  auto before = host_state();
  {
    running_ve r(1208);
    MUST(r.v.add_netif(MUST(netif_spec::parse("eth1")), false));
    CHECK(ve_links(r.v) == std::vector<std::string>{"eth1", "lo"});
    CHECK(contains(host_state(), "link veth1208.0 veth"));
    CHECK_FALSE(MUST(r.v.config()).get("NETIF"));
    MUST(r.v.del_netif("eth1", false));
    CHECK(ve_links(r.v) == std::vector<std::string>{"lo"});
    CHECK_FALSE(contains(host_state(), "veth1208.0"));
    MUST(r.v.add_netif(MUST(netif_spec::parse("eth0")), true));
  }
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
}

TEST_CASE("200 start/stop cycles leave no device, address, route or neighbour entry",
          "[net][cycles]") {
  require_net_host();
  int cycles = 200;
  if (const char* env = std::getenv("OVZ_NET_CYCLES")) cycles = std::atoi(env);
  temp_root root;
  auto v = root.open(1210);
  MUST(v.create());
  MUST(v.add_ip(addr("10.12.10.1"), true));
  MUST(v.add_ip(addr("192.0.2.10"), true));  // with a proxy entry on lan0
  MUST(v.add_ip(addr("fd00:12::10"), true));
  MUST(v.add_netif(MUST(netif_spec::parse("eth0,,,,br121")), true));
  // The bridge is the host's and stays; made here without an IPv6 link-local address, whose
  // duplicate address detection would otherwise finish at some point during the cycles.
  auto host = MUST(detail::netlink::socket::open());
  MUST(host.add_bridge("br121"));
  MUST(detail::write_file("/proc/sys/net/ipv6/conf/br121/addr_gen_mode", "1"));
  MUST(v.start());
  MUST(v.stop({.fast = true}));
  auto before = host_state();
  for (int i = 0; i < cycles; ++i) {
    MUST(v.start());
    if (i == 0) {
      auto during = added(before, host_state());
      CHECK(contains(during, "proxy lan0 192.0.2.10"));
      CHECK(contains(during, "link venet1210"));
      CHECK(contains(during, "link veth1210.0"));
    }
    MUST(v.stop({.fast = true}));
  }
  auto after = host_state();
  INFO("left behind:\n" << joined(added(before, after)) << "gone:\n" << joined(added(after, before)));
  CHECK(after == before);
  auto br = MUST(host.find_link("br121"));
  if (br) MUST(host.delete_link(br->index, "br121"));
}

TEST_CASE("bad network input is refused with a clear error and changes nothing", "[net][errors]") {
  require_net_host();
  temp_root root;
  auto a = root.open(1211), b = root.open(1212);
  MUST(a.create());
  MUST(b.create());
  MUST(b.add_ip(addr("10.12.12.1"), true));
  MUST(a.start());
  const auto conf_before = MUST(a.config()).serialize();
  const auto host_before = host_state();
  const auto ve_before = ve_net_state(a);

  auto refused = [&](const result<void>& r, const char* needle) {
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().message().find(needle) != std::string::npos);
    CHECK(r.error().message().find("VE 121") != std::string::npos);
  };
  CHECK_FALSE(ip_address::parse("10.0.0.300"));
  CHECK_FALSE(ip_address::parse("10.0.0.1/33"));
  CHECK_FALSE(netif_spec::parse("eth0,zz:00:00:00:00:01"));
  CHECK_FALSE(netif_spec::parse("an-interface-name-too-long"));
  for (bool save : {false, true}) {
    refused(a.add_ip(addr("127.0.0.2"), save), "loopback");
    refused(a.add_ip(addr("fe80::5"), save), "link-local");
    refused(a.add_ip(addr("224.0.0.1"), save), "multicast");
    refused(a.add_ip(addr("10.12.12.1"), save), "already used by VE 1212");
    refused(a.add_ip(addr(lan_v4), save), "address of this host (device lan0)");
    refused(a.del_ip(addr("10.12.99.1"), save), "no address 10.12.99.1");
    refused(a.del_netif("eth9", save), "no network device eth9");
    refused(a.add_netif(MUST(netif_spec::parse("eth0,,,,lan0")), save), "lan0 exists and is not a bridge");
    refused(a.add_netif(MUST(netif_spec::parse("eth0,,lan0peer")), save), "lan0peer already exists");
  }
  CHECK(MUST(a.config()).serialize() == conf_before);
  CHECK(host_state() == host_before);
  CHECK(ve_net_state(a) == ve_before);
  // A stopped VE is checked the same way.
  refused(b.add_ip(addr("10.12.12.1"), true), "");  // its own, already there
  MUST(a.stop());
  refused(a.add_netif(MUST(netif_spec::parse("eth0,,,,lan0")), true), "not a bridge");
  refused(a.add_ip(addr("10.12.12.1"), true), "already used by VE 1212");
  CHECK(MUST(a.config()).serialize() == conf_before);
}

TEST_CASE("a start that fails half-way through the network leaves nothing", "[net][errors]") {
  require_net_host();
  auto before = host_state();
  temp_root root;
  auto v = root.open(1213);
  MUST(v.create());
  MUST(v.add_ip(addr("10.12.13.1"), true));
  // A hand-edited CTID.conf naming a bridge that is not one: the routed pair is already made
  // when the bridged device fails.
  auto conf = MUST(v.config());
  MUST(conf.set("NETIF", "ifname=eth0,bridge=lan0"));
  MUST(conf.save(v.conf_path()));
  auto r = v.start();
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().message().find("lan0 exists and is not a bridge") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
  CHECK(leftovers(root).empty());
}
