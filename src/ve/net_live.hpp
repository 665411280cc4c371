#pragma once
// A VE's network in the kernel: its devices and addresses, made at start (and live by
// set --ipadd/--netif_add), and everything the host got for it undone at every clean-up.
//
// Host-side devices carry the alias "ovz:<cgroup of the VE>", and a clean-up deletes by name
// those of its known names (venet<CTID>, the run file's, NETIF's) that carry it, whatever a
// crash left. Routes, permanent neighbour entries and the source address filter on them go
// with them. Proxy neighbour entries live on the host's own devices, so they are recorded in
// <root>/run/<CTID>.net too: the VE's netns may already have taken the veth pair (and with it
// the routes that name the VE's addresses) when the clean-up runs.

#include <ovz/config.hpp>
#include <ovz/ctid.hpp>
#include <ovz/network.hpp>
#include <ovz/result.hpp>

#include "kernel/netlink.hpp"
#include "model/layout.hpp"
#include "ve/host_services.hpp"

#include <sys/types.h>

#include <string>

namespace ovz::detail {

/// Open netlink sockets on both sides of one running (or starting) VE.
struct ve_net {
  ctid id;
  const ve_layout& layout;
  pid_t init_pid;
  netlink::socket host;
  netlink::socket inside;

  static result<ve_net> open(const host_services& h, ctid id, const ve_layout& l,
                                    pid_t init_pid);

  /// lo up, the venet0 pair with the addresses, the bridged devices.
  result<void> set_up(const ve_network& net);
  /// One routed address: on venet0 inside (the pair made first if missing, with its source
  /// address filter), a host route, its pass through the filter, a permanent neighbour entry and
  /// proxy entries on host devices whose subnet holds it.
  result<void> add_ip(const ip_address& a);
  result<void> del_ip(const ip_address& a);
  /// The venet0 pair, which the first add_ip makes, deleted with what the host has on it.
  result<void> del_venet();
  /// The host's side of a network a restore brought back: the VE's devices, addresses and
  /// routes came with it (CRIU's images), and so did the host ends of its pairs, named as
  /// before but bare; they get their MAC, alias, filter, routes and bridge here.
  result<void> adopt(const ve_network& net);
  /// One bridged device (its spec complete: names and MACs filled in).
  result<void> add_netif(const netif_spec& spec);
  result<void> del_netif(const netif_spec& spec);
};

/// At start, from `prepare`: whatever a crash left goes first, then the network CTID.conf
/// describes (`net`, the plan's) is made for the VE whose init is `init_pid`.
result<void> start_network(const host_services& h, ctid id, const ve_layout& l,
                           const ve_network& net, pid_t init_pid);

/// At a restore, from `prepare`: the host's side of the network CRIU restored (ve_net::adopt).
result<void> adopt_network(const host_services& h, ctid id, const ve_layout& l,
                           const ve_network& net, pid_t init_pid);

/// A pair between the VE and the host: the VE's device and the host's.
struct veth_ends {
  std::string inside, host;
};

/// The pairs a running VE has with the host: venet0 where it has one, and NETIF's devices.
result<std::vector<veth_ends>> host_veth_ends(const host_services& h, const ve_layout& l,
                                              const ve_network& net);

/// At a migration's hand-over, the VE frozen: the host ends of its pairs taken down (their
/// routes and neighbour entries go with that) and renamed aside ("ovza<index>"), its proxy
/// entries deleted, so that nothing reaches the VE here and its names and addresses are free
/// for a target on this host. Recorded in the run file for put_back_network.
result<void> set_aside_network(const host_services& h, const ve_layout& l, const ve_network& net);

/// The host ends set_aside_network set aside, under their own names again and equipped as
/// before (up; venet0's routes, neighbour and proxy entries). Nothing when none is aside;
/// errc::already_exists when a name went to another device meanwhile.
result<void> put_back_network(const host_services& h, ctid id, const ve_layout& l,
                              const ve_network& net, pid_t init_pid);

/// Removes every host-side device and entry of the VE. Safe to call at any time; what is
/// already gone is skipped.
result<void> tear_down_network(const host_services& h, const ve_layout& l);

/// An existing device of that name on the host must be a bridge (a missing one is made at
/// start).
result<void> check_bridge(netlink::socket& host, const std::string& name);

/// Refuses an address that is the host's own or is routed on the host to another device.
result<void> check_address_free_on_host(netlink::socket& host, const ve_layout& l,
                                        const ip_address& a);

/// The alias of the VE's host-side devices.
std::string net_tag(const ve_layout& l);

}  // namespace ovz::detail
