#pragma once
/// @file
/// A VE's network: OpenVZ-style routed addresses (venet) and bridged veth devices (NETIF), as
/// CTID.conf holds them and vzctl writes them.
///
/// Routed (`vzctl set --ipadd`): the VE sees a device `venet0` holding its addresses and a
/// default route out of it; the host routes each address to the VE and answers ARP/NDP for
/// it on the host devices whose subnet holds it. Bridged (`vzctl set --netif_add`): a veth
/// pair, the VE end named as given, the host end optionally in a bridge.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

/// An IPv4 or IPv6 address with an optional prefix length ("10.0.0.2", "fd00::2/64").
struct OVZ_API ip_address {
  int family = 0;                     ///< AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  ///< network order; IPv4 uses the first 4
  std::optional<unsigned> prefix{};   ///< as written after '/', none when absent

  /// Parses "ADDR" or "ADDR/PREFIX"; refuses anything else with errc::invalid_argument.
  static result<ip_address> parse(std::string_view text);
  /// The address as written: with "/PREFIX" when it has one.
  std::string str() const;
  /// The address alone, without prefix.
  std::string address() const;
  /// 32 or 128.
  unsigned max_prefix() const noexcept { return family == AF_INET6 ? 128 : 32; }
  /// The same host address, whatever the prefixes.
  bool same_host(const ip_address& other) const noexcept {
    return family == other.family && bytes == other.bytes;
  }
  bool operator==(const ip_address&) const = default;
};

/// One bridged device: vzctl's `--netif_add ifname[,mac,host_ifname,host_mac,bridge]`.
/// Empty fields are chosen at add time: MACs derived stably from CTID and ifname, the host
/// end `veth<CTID>.<N>`, no bridge.
struct OVZ_API netif_spec {
  std::string ifname;       ///< the device inside the VE ("eth0")
  std::string mac{};        ///< its MAC, "02:xx:xx:xx:xx:xx"
  std::string host_ifname{};  ///< the host end of the pair
  std::string host_mac{};
  std::string bridge{};     ///< the host bridge the host end joins (made when missing)

  /// Parses the comma form of --netif_add; empty fields stay empty.
  static result<netif_spec> parse(std::string_view text);
  /// The comma form, trailing empty fields left out.
  std::string str() const;
  bool operator==(const netif_spec&) const = default;
};

/// What CTID.conf says of a VE's network.
struct OVZ_API ve_network {
  std::vector<ip_address> ip_addresses{};  ///< IP_ADDRESS="a b c": routed through venet0
  std::vector<netif_spec> netifs{};        ///< NETIF="ifname=eth0,mac=…;ifname=eth1,…"
};

/// Network changes as one `vzctl set` names them. They are made in this order: addresses
/// deleted (all of them first when `del_all_ips`), added, then devices deleted, added; so
/// `--ipdel all --ipadd X` replaces the addresses and `--netif_del eth0 --netif_add eth0,…`
/// replaces the device, as in vzctl.
struct OVZ_API network_changes {
  bool del_all_ips = false;               ///< --ipdel all
  std::vector<ip_address> del_ips{};      ///< --ipdel ADDR
  std::vector<ip_address> add_ips{};      ///< --ipadd ADDR
  std::vector<std::string> del_netifs{};  ///< --netif_del IFNAME
  std::vector<netif_spec> add_netifs{};   ///< --netif_add SPEC
  bool empty() const noexcept {
    return !del_all_ips && del_ips.empty() && add_ips.empty() && del_netifs.empty() &&
           add_netifs.empty();
  }
};

/// Parses CTID.conf's IP_ADDRESS value (space-separated addresses).
OVZ_API result<std::vector<ip_address>> parse_ip_addresses(std::string_view value);
/// IP_ADDRESS's value.
OVZ_API std::string format_ip_addresses(const std::vector<ip_address>& addrs);
/// Parses CTID.conf's NETIF value: `;`-separated devices of `key=value` fields (ifname, mac,
/// host_ifname, host_mac, bridge), as vzctl writes them.
OVZ_API result<std::vector<netif_spec>> parse_netifs(std::string_view value);
/// NETIF's value.
OVZ_API std::string format_netifs(const std::vector<netif_spec>& netifs);

}  // namespace ovz::inline v0
