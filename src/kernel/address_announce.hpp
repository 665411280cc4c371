#pragma once
// Telling a LAN where an address is now: a gratuitous ARP request (IPv4) or an unsolicited
// neighbour advertisement with the override flag (IPv6) sent out of a host device, as a
// host does when an address moves to it (vzctl's arpsend -U at start, after a migration).
// Neighbours that cached another host's MAC for it update their entry at once instead of
// sending into the void until it goes stale.

#include <ovz/network.hpp>
#include <ovz/result.hpp>

#include <string>

namespace ovz::detail {

/// Announces `a` on the device `ifname` (index `index`) of the caller's network namespace,
/// with the device's own MAC as where it is reached.
result<void> announce_address(int index, const std::string& ifname, const ip_address& a);

}  // namespace ovz::detail
