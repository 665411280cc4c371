#pragma once
// The pure rules of VE networking: which names, MACs and addresses are acceptable, and the
// names and MACs chosen when the user gives none. No system calls.

#include <ovz/config.hpp>
#include <ovz/ctid.hpp>
#include <ovz/network.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ovz::detail {

using mac_bytes = std::array<std::uint8_t, 6>;

/// A network device name the kernel accepts: 1-15 characters, no '/', ':', space, not "." or
/// "..".
result<void> check_ifname(std::string_view name, std::string_view what);
/// "xx:xx:xx:xx:xx:xx", a unicast address.
result<mac_bytes> parse_mac(std::string_view text);
std::string format_mac(const mac_bytes& mac);
/// A locally administered unicast MAC derived from the VE and a device name: the same at every
/// start, different between VEs and devices.
mac_bytes stable_mac(ctid id, std::string_view ifname, std::string_view side);

/// An address a VE may be given on venet0: not unspecified, loopback, multicast, link-local
/// or broadcast, and a prefix no longer than the family allows.
result<void> check_ve_address(const ip_address& addr);

/// The host end of the VE's venet0 pair: "venet<CTID>" (15 characters at most for any CTID).
std::string venet_host_ifname(ctid id);
/// The VE's end.
inline constexpr const char* venet_ifname = "venet0";

/// Fills the empty fields of `spec` as the VE's device number `index`: vzctl's host name
/// veth<CTID>.<N> (N the first number no other device of `others` uses) and stable MACs.
/// Refuses a default host name longer than the kernel allows (a long CTID): give
/// host_ifname then.
result<netif_spec> complete_netif(ctid id, netif_spec spec,
                                  const std::vector<netif_spec>& others);
/// Checks every given field of a spec (names, MACs).
result<void> check_netif(const netif_spec& spec);

/// IP_ADDRESS and NETIF of a CTID.conf.
result<ve_network> network_from_config(const ve_config& conf);
/// Writes both keys (removing an empty one).
result<void> network_to_config(const ve_network& net, ve_config& conf);

}  // namespace ovz::detail
