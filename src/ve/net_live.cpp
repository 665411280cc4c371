#include "ve/net_live.hpp"

#include "fail.hpp"
#include "log.hpp"
#include "kernel/address_announce.hpp"
#include "kernel/files.hpp"
#include "kernel/source_filter.hpp"
#include "model/network.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <algorithm>

namespace ovz::detail {
namespace {

// The VE's gateways: addresses no host owns, reached on-link through venet0 and resolved by
// permanent neighbour entries to the host end's MAC, so the VE never has to ask for them
// (as Calico does; proxy_arp on the host end answers a VE that flushed its entries).
const ip_address gateway4 = *ip_address::parse("169.254.0.1");
const ip_address gateway6 = *ip_address::parse("fe80::1");
const ip_address gateway6_on_host = *ip_address::parse("fe80::1/64");

// venet0 is a point-to-point link between two stacks of one kernel, like lo: its MTU is
// lo's, so host <-> VE and VE <-> VE traffic moves in 64 KiB segments (1500 cost a third of
// the throughput in ovz_net_bench). Traffic leaving the host is not affected: TCP takes the
// smaller MSS of its peer, and the host fragments or sends "packet too big" for the rest as
// any router does. A bridged device keeps 1500: it shares an Ethernet segment.
constexpr unsigned venet_mtu = 65535;

ip_address default_route(int family) {
  ip_address a;
  a.family = family;
  a.prefix = 0;
  return a;
}

ip_address host_only(ip_address a) {
  a.prefix = a.max_prefix();
  return a;
}

// True when `a` lies in the subnet of `net` (an address with its prefix).
bool in_subnet(const ip_address& net, const ip_address& a) {
  if (net.family != a.family) return false;
  unsigned bits = net.prefix.value_or(net.max_prefix());
  for (unsigned i = 0; i < bits; ++i) {
    unsigned mask = 0x80u >> (i % 8);
    if ((net.bytes[i / 8] & mask) != (a.bytes[i / 8] & mask)) return false;
  }
  return true;
}

result<void> write_sysctl(int family, const std::string& dev, const char* key,
                          std::string_view value) {
  return write_file(fmt::format("/proc/sys/net/{}/conf/{}/{}",
                                family == AF_INET ? "ipv4" : "ipv6", dev, key),
                    value);
}

result<netlink::link_info> must_find(netlink::socket& s, const std::string& name,
                                     const char* where) {
  BOOST_OUTCOME_TRY(l, s.find_link(name));
  if (!l) return fail(errc::not_found, "device {} vanished from the {} side", name, where);
  return std::move(*l);
}

// The run file: one line per thing made on the host that the VE's devices do not take with
// them, written before it is made (a crash in between leaves a line to skip, never something
// nobody knows of). "<device> <address>" for a proxy entry, "link: <name>" for the host end
// of a bridged device, "aside: <name> <its own name>" for a host end set aside during a
// migration (no device name holds a colon).
constexpr std::string_view link_line = "link: ";
constexpr std::string_view aside_line = "aside: ";

std::vector<std::string> run_lines(const ve_layout& l) {
  std::vector<std::string> out;
  auto text = read_file(l.net_state.string());
  if (!text) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    out.emplace_back(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  return out;
}

result<void> record(const ve_layout& l, const std::string& line) {
  std::error_code ec;
  std::filesystem::create_directories(l.net_state.parent_path(), ec);
  if (ec) return sys_fail(ec.value(), "create {}", l.net_state.parent_path().string());
  unique_fd fd(::open(l.net_state.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd) return sys_fail(errno, "open {}", l.net_state.string());
  auto text = line + "\n";
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return sys_fail(errno, "write {}", l.net_state.string());
  return success();
}

// Drops the lines of something undone: an address may go to another VE next, a device name
// to anyone, and this VE's clean-up must not touch them.
template <class Pred>
result<void> forget(const ve_layout& l, Pred&& undone) {
  std::string kept;
  for (const auto& line : run_lines(l))
    if (!undone(line)) kept += line + "\n";
  unique_fd fd(::open(l.net_state.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd && errno == ENOENT) return success();
  if (!fd) return sys_fail(errno, "open {}", l.net_state.string());
  if (::write(fd.get(), kept.data(), kept.size()) != static_cast<ssize_t>(kept.size()))
    return sys_fail(errno, "write {}", l.net_state.string());
  return success();
}

struct proxy_entry {
  std::string dev;
  ip_address addr;
};

std::optional<proxy_entry> proxy_of(std::string_view line) {
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || line.starts_with(link_line) || line.starts_with(aside_line))
    return std::nullopt;
  auto a = ip_address::parse(line.substr(sp + 1));
  if (!a) return std::nullopt;
  return proxy_entry{std::string(line.substr(0, sp)), *a};
}

std::vector<proxy_entry> read_proxies(const ve_layout& l) {
  std::vector<proxy_entry> out;
  for (const auto& line : run_lines(l))
    if (auto p = proxy_of(line)) out.push_back(std::move(*p));
  return out;
}

result<void> forget_proxies(const ve_layout& l, const ip_address& a) {
  return forget(l, [&](const std::string& line) {
    auto p = proxy_of(line);
    return p && p->addr.same_host(a);
  });
}

result<void> record_proxy(const ve_layout& l, const std::string& dev, const ip_address& a) {
  return record(l, fmt::format("{} {}", dev, a.address()));
}

// Removes the proxy entries the run file lists for `a` (every address when absent).
result<void> delete_proxies(netlink::socket& host, const ve_layout& l,
                            const std::optional<ip_address>& a) {
  for (const auto& p : read_proxies(l)) {
    if (a && !p.addr.same_host(*a)) continue;
    BOOST_OUTCOME_TRY(lan, host.find_link(p.dev));
    if (lan) {
      BOOST_OUTCOME_TRY(host.delete_neighbour(lan->index, p.addr, true));
    }
  }
  return success();
}

// The host devices whose subnet holds `a`: where OpenVZ answers ARP for a VE address, so the
// LAN reaches the VE through this host. VE devices and lo are left out.
result<std::vector<netlink::link_info>> lan_devices_for(netlink::socket& host,
                                                        const ip_address& a) {
  BOOST_OUTCOME_TRY(links, host.links());
  BOOST_OUTCOME_TRY(addrs, host.addresses());
  std::vector<netlink::link_info> out;
  for (const auto& l : links) {
    if (l.alias.starts_with("ovz:") || l.name == "lo") continue;
    bool holds = std::ranges::any_of(addrs, [&](const netlink::addr_info& ai) {
      return ai.index == l.index && in_subnet(ai.local, a) && !ai.local.same_host(a);
    });
    if (holds) out.push_back(l);
  }
  return out;
}

}  // namespace

std::string net_tag(const ve_layout& l) { return "ovz:" + l.cgroup; }

result<ve_net> ve_net::open(const host_services& h, ctid id, const ve_layout& l,
                            pid_t init_pid) {
  BOOST_OUTCOME_TRY(host, h.netlink());
  BOOST_OUTCOME_TRY(inside, netlink::socket::open_in(init_pid));
  return ve_net{id, l, init_pid, std::move(host), std::move(inside)};
}

result<void> ve_net::set_up(const ve_network& net) {
  BOOST_OUTCOME_TRY(lo, must_find(inside, "lo", "VE"));
  BOOST_OUTCOME_TRY(inside.set_up(lo.index, "lo"));
  for (const auto& a : net.ip_addresses) {
    if (auto ok = add_ip(a); !ok) return with_context(ok.error(), "address " + a.str());
  }
  std::vector<netif_spec> done;
  for (const auto& given : net.netifs) {
    // A hand-written NETIF may leave names and MACs out: the same defaults as at add time.
    BOOST_OUTCOME_TRY(spec, complete_netif(id, given, done));
    if (auto ok = add_netif(spec); !ok) return with_context(ok.error(), "device " + spec.ifname);
    done.push_back(spec);
  }
  return success();
}

namespace {

// The host end of the venet0 pair made ready: the alias first, so that a clean-up knows the
// pair whatever happens next; the filter before the pair is up, so that no packet of the VE
// passes unchecked (a pair that cannot be checked is deleted at once); then up, with the
// host routing between VEs and answering ARP for their gateway, per device so that the
// host's own forwarding setting is left alone.
result<void> equip_venet_host_end(ve_net& n, const netlink::link_info& end) {
  BOOST_OUTCOME_TRY(n.host.set_alias(end.index, end.name, net_tag(n.layout)));
  if (auto ok = attach_source_filter(n.host, end.index); !ok) {
    logged(n.host.delete_link(end.index, end.name), "remove the unfiltered " + end.name);
    return with_context(ok.error(), "the source address filter of " + end.name);
  }
  BOOST_OUTCOME_TRY(n.host.set_up(end.index, end.name));
  BOOST_OUTCOME_TRY(write_sysctl(AF_INET, end.name, "forwarding", "1"));
  return write_sysctl(AF_INET, end.name, "proxy_arp", "1");
}

// The venet0 pair, made on the first address. Returns the host end and the VE end.
result<std::pair<netlink::link_info, netlink::link_info>> venet_pair(ve_net& n) {
  const auto host_name = venet_host_ifname(n.id);
  const auto host_mac = stable_mac(n.id, venet_ifname, "host");
  BOOST_OUTCOME_TRY(existing, n.host.find_link(host_name));
  if (existing && existing->alias != net_tag(n.layout))
    return fail(errc::already_exists,
                "host device {} exists and is not this VE's (a VE {} of another state root?)",
                host_name, n.id.value());
  if (!existing) {
    BOOST_OUTCOME_TRY(n.host.add_veth({host_name, host_mac, 0, venet_mtu},
                                      {venet_ifname, stable_mac(n.id, venet_ifname, "ve"),
                                       n.init_pid, venet_mtu}));
    BOOST_OUTCOME_TRY(made, must_find(n.host, host_name, "host"));
    BOOST_OUTCOME_TRY(equip_venet_host_end(n, made));
    BOOST_OUTCOME_TRY(ve_end, must_find(n.inside, venet_ifname, "VE"));
    BOOST_OUTCOME_TRY(n.inside.set_up(ve_end.index, venet_ifname));
    existing = std::move(made);
  }
  BOOST_OUTCOME_TRY(ve_end, must_find(n.inside, venet_ifname, "VE"));
  return std::pair{std::move(*existing), std::move(ve_end)};
}

// The VE's IPv4 gateway, at every IPv4 address rather than once with the pair: the kernel
// drops the VE's IPv4 routes and neighbour entries on venet0 with its last IPv4 address, so
// after del_ip the next add_ip brings them back.
result<void> venet_ipv4(ve_net& n, const netlink::link_info& ve_end) {
  BOOST_OUTCOME_TRY(n.inside.add_neighbour(ve_end.index, gateway4,
                                           stable_mac(n.id, venet_ifname, "host")));
  if (auto ok = n.inside.add_route(default_route(AF_INET), ve_end.index, gateway4);
      !ok && ok.error().sys_errno() != EEXIST)
    return ok.error();
  return success();
}

// The VE's IPv6 gateway, on the host end.
result<void> host_gateway6(ve_net& n, const netlink::link_info& host_end) {
  if (auto ok = n.host.add_address(host_end.index, gateway6_on_host);
      !ok && ok.error().sys_errno() != EEXIST)
    return ok.error();
  return success();
}

// IPv6 on venet0 once the VE has an IPv6 address: a link-local gateway on the host end and
// the VE's default route to it.
result<void> venet_ipv6(ve_net& n, const netlink::link_info& host_end,
                        const netlink::link_info& ve_end) {
  BOOST_OUTCOME_TRY(routes, n.inside.routes());
  bool have = std::ranges::any_of(routes, [&](const netlink::route_info& r) {
    return r.dst.family == AF_INET6 && r.dst.prefix == 0u && r.oif == ve_end.index;
  });
  if (have) return success();
  BOOST_OUTCOME_TRY(host_gateway6(n, host_end));
  BOOST_OUTCOME_TRY(n.inside.add_neighbour(ve_end.index, gateway6,
                                           stable_mac(n.id, venet_ifname, "host")));
  return n.inside.add_route(default_route(AF_INET6), ve_end.index, gateway6);
}

// What the host has for one of the VE's addresses: its route to the host end, its pass
// through the source filter, a permanent neighbour entry, proxy entries on the LAN.
result<void> host_side_ip(ve_net& n, const netlink::link_info& host_end, const ip_address& a) {
  auto& host = n.host;
  if (auto ok = host.add_route(host_only(a), host_end.index); !ok) {
    if (ok.error().sys_errno() == EEXIST)
      return fail(errc::already_exists, "{} is already routed on this host (used by another VE?)",
                  a.address());
    return ok.error();
  }
  BOOST_OUTCOME_TRY(allow_source(host, host_end.index, a, true));
  BOOST_OUTCOME_TRY(host.add_neighbour(host_end.index, host_only(a),
                                       stable_mac(n.id, venet_ifname, "ve")));
  BOOST_OUTCOME_TRY(lans, lan_devices_for(host, a));
  for (const auto& lan : lans) {
    // Recorded before it is made: a crash in between leaves a line to skip, never an entry
    // nobody knows of.
    BOOST_OUTCOME_TRY(record_proxy(n.layout, lan.name, a));
    if (a.family == AF_INET6) {
      BOOST_OUTCOME_TRY(write_sysctl(AF_INET6, lan.name, "proxy_ndp", "1"));
    }
    BOOST_OUTCOME_TRY(host.add_neighbour(lan.index, host_only(a), std::nullopt));
    // The LAN may have it cached at another host (the VE came from there): told it is here.
    // Reachable anyway once that entry goes stale, so a refusal only costs time.
    logged(announce_address(lan.index, lan.name, a),
           fmt::format("VE {}: announcing {} on {}", n.id.value(), a.address(), lan.name),
           log_level::info);
  }
  return success();
}

}  // namespace

result<void> ve_net::add_ip(const ip_address& a) {
  BOOST_OUTCOME_TRY(pair, venet_pair(*this));
  auto& [host_end, ve_end] = pair;
  if (a.family == AF_INET6) {
    BOOST_OUTCOME_TRY(venet_ipv6(*this, host_end, ve_end));
  } else {
    BOOST_OUTCOME_TRY(venet_ipv4(*this, ve_end));
  }
  // The VE sees the prefix it was given, but no subnet route: everything leaves through the
  // gateway, as on OpenVZ's venet.
  BOOST_OUTCOME_TRY(inside.add_address(ve_end.index, a));
  return host_side_ip(*this, host_end, a);
}

result<void> ve_net::del_ip(const ip_address& a) {
  const auto host_name = venet_host_ifname(id);
  BOOST_OUTCOME_TRY(host_end, host.find_link(host_name));
  BOOST_OUTCOME_TRY(ve_end, inside.find_link(venet_ifname));
  if (ve_end) {
    BOOST_OUTCOME_TRY(addrs, inside.addresses());
    for (const auto& ai : addrs) {
      if (ai.index == ve_end->index && ai.local.same_host(a)) {
        BOOST_OUTCOME_TRY(inside.delete_address(ve_end->index, ai.local));
      }
    }
  }
  if (host_end && host_end->alias == net_tag(layout)) {
    BOOST_OUTCOME_TRY(allow_source(host, host_end->index, a, false));
    BOOST_OUTCOME_TRY(host.delete_route(host_only(a), host_end->index));
    BOOST_OUTCOME_TRY(host.delete_neighbour(host_end->index, host_only(a), false));
  }
  BOOST_OUTCOME_TRY(delete_proxies(host, layout, a));
  return forget_proxies(layout, a);
}

result<void> ve_net::del_venet() {
  const auto host_name = venet_host_ifname(id);
  BOOST_OUTCOME_TRY(host_end, host.find_link(host_name));
  if (host_end && host_end->alias == net_tag(layout)) {
    BOOST_OUTCOME_TRY(host.delete_link(host_end->index, host_name));
  }
  return success();
}

result<void> check_bridge(netlink::socket& host, const std::string& name) {
  BOOST_OUTCOME_TRY(l, host.find_link(name));
  if (l && l->kind != "bridge")
    return fail(errc::invalid_argument, "host device {} exists and is not a bridge ({})", name,
                l->kind.empty() ? "a plain device" : "type " + l->kind);
  return success();
}

namespace {

// The index of the bridge a device joins (0: none), made and brought up when missing: once
// and kept, as a bridge is the host's, shared by VEs and perhaps a LAN port.
result<int> bridge_of(netlink::socket& host, const netif_spec& spec) {
  if (spec.bridge.empty()) return 0;
  BOOST_OUTCOME_TRY(check_bridge(host, spec.bridge));
  BOOST_OUTCOME_TRY(br, host.find_link(spec.bridge));
  if (!br) {
    BOOST_OUTCOME_TRY(host.add_bridge(spec.bridge));
    BOOST_OUTCOME_TRY(made, must_find(host, spec.bridge, "host"));
    br = std::move(made);
  }
  if (!(br->flags & IFF_UP)) {
    BOOST_OUTCOME_TRY(host.set_up(br->index, spec.bridge));
  }
  return br->index;
}

}  // namespace

result<void> ve_net::add_netif(const netif_spec& spec) {
  BOOST_OUTCOME_TRY(master, bridge_of(host, spec));
  BOOST_OUTCOME_TRY(existing, host.find_link(spec.host_ifname));
  if (existing)
    return fail(errc::already_exists, "host device {} already exists", spec.host_ifname);
  BOOST_OUTCOME_TRY(host_mac, parse_mac(spec.host_mac));
  BOOST_OUTCOME_TRY(ve_mac, parse_mac(spec.mac));
  BOOST_OUTCOME_TRY(record(layout, std::string(link_line) + spec.host_ifname));
  BOOST_OUTCOME_TRY(host.add_veth({spec.host_ifname, host_mac, 0},
                                  {spec.ifname, ve_mac, init_pid}));
  BOOST_OUTCOME_TRY(host_end, must_find(host, spec.host_ifname, "host"));
  BOOST_OUTCOME_TRY(host.set_up(host_end.index, spec.host_ifname, net_tag(layout), master));
  BOOST_OUTCOME_TRY(ve_end, must_find(inside, spec.ifname, "VE"));
  return inside.set_up(ve_end.index, spec.ifname);
}

result<void> ve_net::adopt(const ve_network& net) {
  // venet0's host end, which CRIU made where the VE had one, whatever CTID.conf says now.
  BOOST_OUTCOME_TRY(venet, host.find_link(venet_host_ifname(id)));
  if (venet && venet->alias.empty()) {
    BOOST_OUTCOME_TRY(host.set_hardware(venet->index, venet->name,
                                        stable_mac(id, venet_ifname, "host"), venet_mtu));
    BOOST_OUTCOME_TRY(equip_venet_host_end(*this, *venet));
    BOOST_OUTCOME_TRY(ve_end, must_find(inside, venet_ifname, "VE"));
    for (const auto& a : net.ip_addresses) {
      if (a.family == AF_INET6) {
        BOOST_OUTCOME_TRY(host_gateway6(*this, *venet));
      }
      // CRIU restores addresses and routes, not neighbour entries: the gateways' come back.
      const auto& gateway = a.family == AF_INET6 ? gateway6 : gateway4;
      if (auto ok = inside.add_neighbour(ve_end.index, gateway,
                                         stable_mac(id, venet_ifname, "host"));
          !ok && ok.error().sys_errno() != EEXIST)
        return ok.error();
      if (auto ok = host_side_ip(*this, *venet, a); !ok)
        return with_context(ok.error(), "address " + a.str());
    }
  }
  std::vector<netif_spec> done;
  for (const auto& given : net.netifs) {
    BOOST_OUTCOME_TRY(spec, complete_netif(id, given, done));
    BOOST_OUTCOME_TRY(master, bridge_of(host, spec));
    BOOST_OUTCOME_TRY(record(layout, std::string(link_line) + spec.host_ifname));
    BOOST_OUTCOME_TRY(end, must_find(host, spec.host_ifname, "host"));
    BOOST_OUTCOME_TRY(host_mac, parse_mac(spec.host_mac));
    BOOST_OUTCOME_TRY(host.set_hardware(end.index, end.name, host_mac));
    BOOST_OUTCOME_TRY(host.set_up(end.index, end.name, net_tag(layout), master));
    done.push_back(std::move(spec));
  }
  return success();
}

result<void> ve_net::del_netif(const netif_spec& spec) {
  BOOST_OUTCOME_TRY(host_end, host.find_link(spec.host_ifname));
  // A pair whose host end is gone is gone entirely; a device the VE made itself is its own.
  if (host_end && host_end->alias == net_tag(layout)) {
    BOOST_OUTCOME_TRY(host.delete_link(host_end->index, spec.host_ifname));
  }
  return forget(layout, [&](const std::string& line) {
    return line == std::string(link_line) + spec.host_ifname;
  });
}

result<void> check_address_free_on_host(netlink::socket& host, const ve_layout& l,
                                        const ip_address& a) {
  BOOST_OUTCOME_TRY(links, host.links());
  auto name_of = [&](int index) {
    auto it = std::ranges::find(links, index, &netlink::link_info::index);
    return it == links.end() ? fmt::format("#{}", index) : it->name;
  };
  BOOST_OUTCOME_TRY(addrs, host.addresses());
  for (const auto& ai : addrs)
    if (ai.local.same_host(a))
      return fail(errc::already_exists, "{} is an address of this host (device {})", a.address(),
                  name_of(ai.index));
  BOOST_OUTCOME_TRY(routes, host.routes());
  for (const auto& r : routes) {
    if (r.table != RT_TABLE_MAIN || !r.dst.same_host(a) || r.dst.prefix != a.max_prefix())
      continue;
    auto dev = std::ranges::find(links, r.oif, &netlink::link_info::index);
    if (dev != links.end() && dev->alias == net_tag(l)) continue;  // this VE's own
    return fail(errc::already_exists, "{} is already routed on this host (to device {})",
                a.address(), name_of(r.oif));
  }
  return success();
}

result<void> start_network(const host_services& h, ctid id, const ve_layout& l,
                           const ve_network& net, pid_t init_pid) {
  BOOST_OUTCOME_TRY(tear_down_network(h, l));
  BOOST_OUTCOME_TRY(n, ve_net::open(h, id, l, init_pid));
  return n.set_up(net);
}

result<void> adopt_network(const host_services& h, ctid id, const ve_layout& l,
                           const ve_network& net, pid_t init_pid) {
  BOOST_OUTCOME_TRY(n, ve_net::open(h, id, l, init_pid));
  return n.adopt(net);
}

result<std::vector<veth_ends>> host_veth_ends(const host_services& h, const ve_layout& l,
                                              const ve_network& net) {
  BOOST_OUTCOME_TRY(host, h.netlink());
  std::vector<veth_ends> out;
  const auto venet = venet_host_ifname(l.id);
  BOOST_OUTCOME_TRY(found, host.find_link(venet));
  if (found && found->alias == net_tag(l)) out.push_back({venet_ifname, venet});
  std::vector<netif_spec> done;
  for (const auto& given : net.netifs) {
    BOOST_OUTCOME_TRY(spec, complete_netif(l.id, given, done));
    out.push_back({spec.ifname, spec.host_ifname});
    done.push_back(std::move(spec));
  }
  return out;
}

namespace {

struct aside_entry {
  std::string name, own_name;
};

std::vector<aside_entry> read_aside(const ve_layout& l) {
  std::vector<aside_entry> out;
  for (const auto& line : run_lines(l)) {
    if (!line.starts_with(aside_line)) continue;
    const auto rest = std::string_view(line).substr(aside_line.size());
    const auto sp = rest.find(' ');
    if (sp != std::string_view::npos)
      out.push_back({std::string(rest.substr(0, sp)), std::string(rest.substr(sp + 1))});
  }
  return out;
}

}  // namespace

result<void> set_aside_network(const host_services& h, const ve_layout& l, const ve_network& net) {
  BOOST_OUTCOME_TRY(ends, host_veth_ends(h, l, net));
  BOOST_OUTCOME_TRY(host, h.netlink());
  // The LAN's entries first: they answer for the VE's addresses on the host's own devices,
  // where a VE of this address may come next (a target on this host).
  BOOST_OUTCOME_TRY(delete_proxies(host, l, std::nullopt));
  BOOST_OUTCOME_TRY(forget(l, [](const std::string& line) { return proxy_of(line).has_value(); }));
  for (const auto& end : ends) {
    BOOST_OUTCOME_TRY(link, host.find_link(end.host));
    if (!link || link->alias != net_tag(l)) continue;
    const auto aside = fmt::format("ovza{}", link->index);
    BOOST_OUTCOME_TRY(host.set_down(link->index, link->name));
    BOOST_OUTCOME_TRY(record(l, fmt::format("{}{} {}", aside_line, aside, link->name)));
    BOOST_OUTCOME_TRY(host.rename(link->index, link->name, aside));
  }
  return success();
}

result<void> put_back_network(const host_services& h, ctid id, const ve_layout& l,
                              const ve_network& net, pid_t init_pid) {
  const auto aside = read_aside(l);
  if (aside.empty()) return success();
  BOOST_OUTCOME_TRY(n, ve_net::open(h, id, l, init_pid));
  for (const auto& a : aside) {
    BOOST_OUTCOME_TRY(link, n.host.find_link(a.name));
    if (!link) continue;  // never renamed: it kept its name
    BOOST_OUTCOME_TRY(taken, n.host.find_link(a.own_name));
    if (taken)
      return fail(errc::already_exists,
                  "host device {} (set aside as {}) cannot get its name back: a device of that "
                  "name exists (the VE runs in another state root of this host?)",
                  a.own_name, a.name);
    BOOST_OUTCOME_TRY(n.host.rename(link->index, a.name, a.own_name));
  }
  BOOST_OUTCOME_TRY(forget(l, [](const std::string& line) { return line.starts_with(aside_line); }));
  // Up again, and what went with down comes back: the routes, neighbour and proxy entries
  // of venet0's addresses (the filter, the sysctls and the bridge stayed with the device).
  BOOST_OUTCOME_TRY(venet, n.host.find_link(venet_host_ifname(id)));
  if (venet && venet->alias == net_tag(l)) {
    BOOST_OUTCOME_TRY(n.host.set_up(venet->index, venet->name));
    for (const auto& a : net.ip_addresses) {
      if (a.family == AF_INET6) {
        BOOST_OUTCOME_TRY(host_gateway6(n, *venet));
      }
      if (auto ok = host_side_ip(n, *venet, a); !ok)
        return with_context(ok.error(), "address " + a.str());
    }
  }
  BOOST_OUTCOME_TRY(ends, host_veth_ends(h, l, net));
  for (const auto& end : ends) {
    if (end.inside == venet_ifname) continue;
    BOOST_OUTCOME_TRY(link, n.host.find_link(end.host));
    if (link && link->alias == net_tag(l)) {
      BOOST_OUTCOME_TRY(n.host.set_up(link->index, link->name));
    }
  }
  return success();
}

// By name, never by a dump of the host's links: a host stopping N VEs would read N devices N
// times. The names are the venet pair's, those the run file recorded, and NETIF's of CTID.conf
// (devices made before the run file listed them); each is deleted only when it carries this
// VE's alias, as a name may have gone to someone else since.
result<void> tear_down_network(const host_services& h, const ve_layout& l) {
  BOOST_OUTCOME_TRY(host, h.netlink());
  std::vector<std::string> names{venet_host_ifname(l.id)};
  for (const auto& line : run_lines(l))
    if (line.starts_with(link_line)) names.push_back(line.substr(link_line.size()));
  auto conf = ve_config::load(l.conf);
  auto net = conf ? network_from_config(*conf) : result<ve_network>(conf.error());
  if (net) {
    std::vector<netif_spec> done;
    for (const auto& given : net->netifs) {
      auto spec = complete_netif(l.id, given, done);
      if (!spec) continue;  // never made: start refuses it
      names.push_back(spec->host_ifname);
      done.push_back(std::move(*spec));
    }
  }
  for (const auto& name : names) {
    BOOST_OUTCOME_TRY(link, host.find_link(name));
    if (link && link->alias == net_tag(l)) {
      BOOST_OUTCOME_TRY(host.delete_link(link->index, name));
    }
  }
  BOOST_OUTCOME_TRY(delete_proxies(host, l, std::nullopt));
  return remove_file_if_any(l.net_state);
}

}  // namespace ovz::detail
