#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"
#include "model/network.hpp"
#include "ve/lock.hpp"
#include "ve/net_setup.hpp"
#include "ve/runtime.hpp"

#include <algorithm>

namespace ovz {
namespace {

// What every network change shares: the lock, the saved config, whether the VE runs. `edit`
// checks the request and changes the saved network (refusing bad input before anything
// changes); `live` applies it to the running VE. CTID.conf is written when `save`, or when
// the VE is stopped and nothing else would keep the change, and before the live change: a
// save that fails leaves the VE as it was, and a live change that fails puts the saved
// config back.
template <class Edit, class Live>
result<void> change_network(const ve& v, bool save, Edit&& edit, Live&& live) {
  const auto ctx = fmt::format("VE {}", v.id().value());
  BOOST_OUTCOME_TRY(l, detail::locate(v.state_root(), v.id()));
  auto lock = detail::ve_lock::acquire(l, v.id());
  if (!lock) return lock.error();
  std::error_code ec;
  if (!std::filesystem::exists(l.conf, ec))
    return detail::fail(errc::not_found, "{} does not exist", ctx);
  BOOST_OUTCOME_TRY(conf, v.config());
  auto net = detail::network_from_config(conf);
  if (!net) return detail::with_context(net.error(), ctx + ": " + l.conf.string());
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  BOOST_OUTCOME_TRY(state, detail::probe(*cg, l));
  std::optional<detail::ve_net> running;
  if (state.init_pid) {
    auto opened = detail::ve_net::open(v.id(), l, state.init_pid);
    if (!opened) return detail::with_context(opened.error(), ctx);
    running.emplace(std::move(*opened));
  }
  auto host = detail::netlink::socket::open();
  if (!host) return detail::with_context(host.error(), ctx);
  if (auto ok = edit(*net, *host, running ? &*running : nullptr); !ok)
    return detail::with_context(ok.error(), ctx);
  const ve_config before = conf;
  const bool saves = save || !running;
  if (saves) {
    BOOST_OUTCOME_TRY(detail::network_to_config(*net, conf));
    if (auto ok = conf.save(l.conf); !ok) return detail::with_context(ok.error(), ctx);
  }
  if (running) {
    if (auto ok = live(*running); !ok) {
      if (saves) (void)before.save(l.conf);
      return detail::with_context(ok.error(), ctx);
    }
  }
  return success();
}

// The addresses on the running VE's venet0.
result<std::vector<ip_address>> live_addresses(detail::ve_net& n) {
  std::vector<ip_address> out;
  BOOST_OUTCOME_TRY(dev, n.inside.find_link(detail::venet_ifname));
  if (!dev) return out;
  BOOST_OUTCOME_TRY(addrs, n.inside.addresses());
  for (const auto& a : addrs) {
    bool link_local = a.local.family == AF_INET6 && a.local.bytes[0] == 0xfe;
    if (a.index == dev->index && !link_local) out.push_back(a.local);
  }
  return out;
}

bool holds(const std::vector<ip_address>& list, const ip_address& a) {
  return std::ranges::any_of(list, [&](const ip_address& x) { return x.same_host(a); });
}

// Another VE under the same state root that has `a` in its CTID.conf.
result<void> check_not_used_by_other_ves(const ve& self, const ip_address& a) {
  return detail::for_each_ve(self.state_root(), [&](const ve& other) -> result<void> {
    if (other.id() == self.id()) return success();
    auto conf = other.config();
    if (!conf) return success();  // a VE being destroyed, or unreadable: its own problem
    auto net = detail::network_from_config(*conf);
    if (net && holds(net->ip_addresses, a))
      return detail::fail(errc::already_exists, "{} is already used by VE {}", a.address(),
                          other.id().value());
    return success();
  });
}

}  // namespace

result<void> ve::add_ip(const ip_address& addr, bool save) {
  return change_network(
      *this, save,
      [&](ve_network& net, detail::netlink::socket& host, detail::ve_net* running) -> result<void> {
        BOOST_OUTCOME_TRY(detail::check_ve_address(addr));
        if (running) {
          BOOST_OUTCOME_TRY(live, live_addresses(*running));
          if (holds(live, addr))
            return detail::fail(errc::already_exists, "the VE already has {}", addr.address());
        }
        if (holds(net.ip_addresses, addr) && (save || !running))
          return detail::fail(errc::already_exists, "{} is already in IP_ADDRESS", addr.address());
        BOOST_OUTCOME_TRY(check_not_used_by_other_ves(*this, addr));
        BOOST_OUTCOME_TRY(l, detail::locate(root_, id_));
        BOOST_OUTCOME_TRY(detail::check_address_free_on_host(host, l, addr));
        if (!holds(net.ip_addresses, addr)) net.ip_addresses.push_back(addr);
        return success();
      },
      [&](detail::ve_net& n) -> result<void> {
        if (auto ok = n.add_ip(addr); !ok) {
          (void)n.del_ip(addr);  // leave nothing half-made
          return ok.error();
        }
        return success();
      });
}

result<void> ve::del_ip(const ip_address& addr, bool save) {
  return change_network(
      *this, save,
      [&](ve_network& net, detail::netlink::socket&, detail::ve_net* running) -> result<void> {
        bool in_conf = holds(net.ip_addresses, addr);
        bool in_ve = false;
        if (running) {
          BOOST_OUTCOME_TRY(live, live_addresses(*running));
          in_ve = holds(live, addr);
        }
        if (!in_conf && !in_ve)
          return detail::fail(errc::not_found, "the VE has no address {}", addr.address());
        std::erase_if(net.ip_addresses, [&](const ip_address& x) { return x.same_host(addr); });
        return success();
      },
      [&](detail::ve_net& n) { return n.del_ip(addr); });
}

result<void> ve::del_all_ips(bool save) {
  std::vector<ip_address> live;
  return change_network(
      *this, save,
      [&](ve_network& net, detail::netlink::socket&, detail::ve_net* running) -> result<void> {
        if (running) {
          BOOST_OUTCOME_TRY(addrs, live_addresses(*running));
          live = std::move(addrs);
        }
        net.ip_addresses.clear();
        return success();
      },
      [&](detail::ve_net& n) -> result<void> {
        for (const auto& a : live) {
          BOOST_OUTCOME_TRY(n.del_ip(a));
        }
        return success();
      });
}

result<void> ve::add_netif(const netif_spec& spec, bool save) {
  netif_spec full;
  return change_network(
      *this, save,
      [&](ve_network& net, detail::netlink::socket& host, detail::ve_net* running) -> result<void> {
        BOOST_OUTCOME_TRY(filled, detail::complete_netif(id_, spec, net.netifs));
        full = std::move(filled);
        for (const auto& o : net.netifs) {
          if (o.ifname == full.ifname)
            return detail::fail(errc::already_exists, "the VE already has a device {}", o.ifname);
          if (o.host_ifname == full.host_ifname)
            return detail::fail(errc::already_exists, "host device name {} is the VE's {}",
                                o.host_ifname, o.ifname);
        }
        if (running) {
          BOOST_OUTCOME_TRY(inside, running->inside.find_link(full.ifname));
          if (inside)
            return detail::fail(errc::already_exists, "the VE already has a device {}",
                                full.ifname);
        }
        BOOST_OUTCOME_TRY(taken, host.find_link(full.host_ifname));
        if (taken)
          return detail::fail(errc::already_exists, "host device {} already exists",
                              full.host_ifname);
        if (!full.bridge.empty()) {
          BOOST_OUTCOME_TRY(detail::check_bridge(host, full.bridge));
        }
        net.netifs.push_back(full);
        return success();
      },
      [&](detail::ve_net& n) -> result<void> {
        if (auto ok = n.add_netif(full); !ok) {
          (void)n.del_netif(full);
          return ok.error();
        }
        return success();
      });
}

result<void> ve::del_netif(const std::string& ifname, bool save) {
  return change_network(
      *this, save,
      [&](ve_network& net, detail::netlink::socket&, detail::ve_net* running) -> result<void> {
        bool in_conf = std::ranges::any_of(net.netifs, [&](const netif_spec& s) { return s.ifname == ifname; });
        bool in_ve = false;
        if (running) {
          BOOST_OUTCOME_TRY(dev, running->inside.find_link(ifname));
          in_ve = dev && dev->kind == "veth";
        }
        if (!in_conf && !in_ve)
          return detail::fail(errc::not_found, "the VE has no network device {}", ifname);
        std::erase_if(net.netifs, [&](const netif_spec& s) { return s.ifname == ifname; });
        return success();
      },
      [&](detail::ve_net& n) -> result<void> {
        // Deleting the VE's end takes the pair, wherever its host end is named.
        BOOST_OUTCOME_TRY(dev, n.inside.find_link(ifname));
        if (dev && dev->kind == "veth") {
          BOOST_OUTCOME_TRY(n.inside.delete_link(dev->index, ifname));
        }
        return success();
      });
}

result<ve_network> ve::network() const {
  BOOST_OUTCOME_TRY(conf, config());
  auto net = detail::network_from_config(conf);
  if (!net) return detail::with_context(net.error(), fmt::format("VE {}", id_.value()));
  return net;
}

}  // namespace ovz
