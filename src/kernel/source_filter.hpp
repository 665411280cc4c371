#pragma once
// OpenVZ's venet dropped every packet from a VE whose source address the VE was not given;
// VE root can put any address on venet0, so the host end checks each packet's source. A BPF
// program on the ingress (clsact) of the host end looks the source up in a hash map holding
// the VE's addresses: one lookup per packet, whatever the number of VEs or of their
// addresses. Passed too: ARP, and IPv6 link-local sources (neighbour discovery with the
// host's fe80::1; the host never forwards them). Everything else is dropped.

#include <ovz/network.hpp>
#include <ovz/result.hpp>

#include "kernel/netlink.hpp"

namespace ovz::detail {

/// Puts the filter, with no address allowed yet, on the link `index` of `host`'s namespace:
/// its clsact qdisc, the program and its map. They go with the link.
result<void> attach_source_filter(netlink::socket& host, int index);

/// Lets packets from `a` pass the filter of link `index`, or no longer (`allowed` false; a
/// link without the filter then is not an error).
result<void> allow_source(netlink::socket& host, int index, const ip_address& a, bool allowed);

}  // namespace ovz::detail
