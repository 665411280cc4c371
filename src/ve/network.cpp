// Network changes (addresses on venet0, bridged devices) as a part of ve::apply; add_ip and
// the other single calls are apply with that one change.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "model/layout.hpp"
#include "model/network.hpp"
#include "ve/change.hpp"
#include "ve/net_live.hpp"
#include "ve/ve_list.hpp"

#include <algorithm>
#include <memory>
#include <optional>

namespace ovz::detail {
namespace {

// The addresses on the running VE's venet0, with the prefixes they have there.
result<std::vector<ip_address>> live_addresses(ve_net& n) {
  std::vector<ip_address> out;
  BOOST_OUTCOME_TRY(dev, n.inside.find_link(venet_ifname));
  if (!dev) return out;
  BOOST_OUTCOME_TRY(addrs, n.inside.addresses());
  for (const auto& a : addrs) {
    bool link_local = a.local.family == AF_INET6 && a.local.bytes[0] == 0xfe;
    if (a.index == dev->index && !link_local) out.push_back(a.local);
  }
  return out;
}

std::optional<ip_address> find_host(const std::vector<ip_address>& list, const ip_address& a) {
  auto it = std::ranges::find_if(list, [&](const ip_address& x) { return x.same_host(a); });
  if (it == list.end()) return std::nullopt;
  return *it;
}

bool holds(const std::vector<ip_address>& list, const ip_address& a) {
  return find_host(list, a).has_value();
}

// Another VE under the same state root that has `a` in its CTID.conf.
result<void> check_not_used_by_other_ves(const std::filesystem::path& root, ctid self,
                                         const ip_address& a) {
  return for_each_ve(root, [&](const ve& other) -> result<void> {
    if (other.id() == self) return success();
    auto conf = other.config();
    if (!conf) return success();  // a VE being destroyed, or unreadable: its own problem
    auto net = network_from_config(*conf);
    if (net && holds(net->ip_addresses, a))
      return fail(errc::already_exists, "{} is already used by VE {}", a.address(),
                  other.id().value());
    return success();
  });
}

// The network part of one change, made a step at a time in the order network_changes gives:
// each step is checked against the network CTID.conf will hold and the live one as the steps
// before left them, so `--ipdel X --ipadd X` works. Each live step leaves how to undo it.
class network_edit {
 public:
  network_edit(change_site& site, ve_network net) : site_(site), net_(std::move(net)) {}

  result<void> open() {
    if (site_.init_pid) {
      BOOST_OUTCOME_TRY(n, ve_net::open(site_.host, site_.layout.id, site_.layout, site_.init_pid));
      running_ = std::make_shared<ve_net>(std::move(n));
    } else {
      BOOST_OUTCOME_TRY(host, site_.host.netlink());
      own_host_.emplace(std::move(host));
    }
    return success();
  }

  result<void> make(const network_changes& c) {
    if (c.del_all_ips) {
      BOOST_OUTCOME_TRY(del_all_ips());
    }
    for (const auto& a : c.del_ips) {
      BOOST_OUTCOME_TRY(del_ip(a));
    }
    for (const auto& a : c.add_ips) {
      BOOST_OUTCOME_TRY(add_ip(a));
    }
    for (const auto& name : c.del_netifs) {
      BOOST_OUTCOME_TRY(del_netif(name));
    }
    for (const auto& spec : c.add_netifs) {
      BOOST_OUTCOME_TRY(add_netif(spec));
    }
    return success();
  }

  const ve_network& network() const { return net_; }

  /// Every live step undone, the last first; empty when nothing was made live.
  undo_step undo() && {
    if (undo_.empty()) return {};
    return [steps = std::move(undo_)] {
      for (auto it = steps.rbegin(); it != steps.rend(); ++it) (*it)();
    };
  }

 private:
  netlink::socket& host() { return running_ ? running_->host : *own_host_; }

  result<void> del_all_ips() {
    net_.ip_addresses.clear();
    if (!running_) return success();
    BOOST_OUTCOME_TRY(live, live_addresses(*running_));
    for (const auto& a : live) {
      BOOST_OUTCOME_TRY(del_live_ip(a));
    }
    return success();
  }

  result<void> del_ip(const ip_address& a) {
    std::optional<ip_address> live;
    if (running_) {
      BOOST_OUTCOME_TRY(addrs, live_addresses(*running_));
      live = find_host(addrs, a);
    }
    if (!holds(net_.ip_addresses, a) && !live)
      return fail(errc::not_found, "the VE has no address {}", a.address());
    std::erase_if(net_.ip_addresses, [&](const ip_address& x) { return x.same_host(a); });
    if (live) return del_live_ip(*live);
    return success();
  }

  // Undone by adding it back with the prefix it had.
  result<void> del_live_ip(const ip_address& live) {
    BOOST_OUTCOME_TRY(running_->del_ip(live));
    undo_.push_back(
        [n = running_, live] { logged(n->add_ip(live), "rollback: put back " + live.address()); });
    return success();
  }

  result<void> add_ip(const ip_address& a) {
    if (running_) {
      BOOST_OUTCOME_TRY(live, live_addresses(*running_));
      if (holds(live, a))
        return fail(errc::already_exists, "the VE already has {}", a.address());
    }
    if (holds(net_.ip_addresses, a) && site_.writes_conf())
      return fail(errc::already_exists, "{} is already in IP_ADDRESS", a.address());
    BOOST_OUTCOME_TRY(check_not_used_by_other_ves(site_.state_root, site_.layout.id, a));
    BOOST_OUTCOME_TRY(check_address_free_on_host(host(), site_.layout, a));
    if (!holds(net_.ip_addresses, a)) net_.ip_addresses.push_back(a);
    if (!running_) return success();
    BOOST_OUTCOME_TRY(pair, host().find_link(venet_host_ifname(site_.layout.id)));
    // The first address makes the venet0 pair, which goes again with it.
    auto undo = [n = running_, a, made_pair = !pair] {
      logged(n->del_ip(a), "rollback: remove " + a.address());
      if (made_pair) logged(n->del_venet(), "rollback: remove venet0");
    };
    if (auto ok = running_->add_ip(a); !ok) {
      undo();  // leave nothing half-made
      return ok.error();
    }
    undo_.push_back(std::move(undo));
    return success();
  }

  result<void> del_netif(const std::string& ifname) {
    std::optional<netif_spec> saved;
    if (auto it = std::ranges::find(net_.netifs, ifname, &netif_spec::ifname);
        it != net_.netifs.end())
      saved = *it;
    std::optional<netlink::link_info> dev;
    if (running_) {
      BOOST_OUTCOME_TRY(found, running_->inside.find_link(ifname));
      if (found && found->kind == "veth") dev = std::move(found);
    }
    if (!saved && !dev)
      return fail(errc::not_found, "the VE has no network device {}", ifname);
    std::erase_if(net_.netifs, [&](const netif_spec& s) { return s.ifname == ifname; });
    if (!dev) return success();
    // Deleting the VE's end takes the pair, wherever its host end is named.
    BOOST_OUTCOME_TRY(running_->inside.delete_link(dev->index, ifname));
    // Made again as CTID.conf describes it; a device only ever made live has no description
    // to make it from (its MACs and host end are not known here).
    if (saved) {
      undo_.push_back([n = running_, spec = *saved] {
        if (!logged(n->add_netif(spec), "rollback: make " + spec.ifname + " again"))
          logged(n->del_netif(spec), "rollback: remove what was made of " + spec.ifname);
      });
    }
    return success();
  }

  result<void> add_netif(const netif_spec& spec) {
    BOOST_OUTCOME_TRY(full, complete_netif(site_.layout.id, spec, net_.netifs));
    for (const auto& o : net_.netifs) {
      if (o.ifname == full.ifname)
        return fail(errc::already_exists, "the VE already has a device {}", o.ifname);
      if (o.host_ifname == full.host_ifname)
        return fail(errc::already_exists, "host device name {} is the VE's {}", o.host_ifname,
                    o.ifname);
    }
    if (running_) {
      BOOST_OUTCOME_TRY(inside, running_->inside.find_link(full.ifname));
      if (inside) return fail(errc::already_exists, "the VE already has a device {}", full.ifname);
    }
    BOOST_OUTCOME_TRY(taken, host().find_link(full.host_ifname));
    if (taken)
      return fail(errc::already_exists, "host device {} already exists", full.host_ifname);
    if (!full.bridge.empty()) {
      BOOST_OUTCOME_TRY(check_bridge(host(), full.bridge));
    }
    net_.netifs.push_back(full);
    if (!running_) return success();
    if (auto ok = running_->add_netif(full); !ok) {
      logged(running_->del_netif(full), "remove what was made of " + full.ifname);
      return ok.error();
    }
    undo_.push_back(
        [n = running_, full] { logged(n->del_netif(full), "rollback: remove " + full.ifname); });
    return success();
  }

  change_site& site_;
  ve_network net_;
  std::shared_ptr<ve_net> running_;  // shared with the undo steps; none when stopped
  std::optional<netlink::socket> own_host_;
  std::vector<undo_step> undo_;
};

}  // namespace

result<void> check_network_changes(const network_changes& changes) {
  for (const auto& a : changes.add_ips) {
    BOOST_OUTCOME_TRY(check_ve_address(a));
  }
  for (const auto& spec : changes.add_netifs) {
    BOOST_OUTCOME_TRY(check_netif(spec));
  }
  return success();
}

result<undo_step> change_network(change_site& site, const network_changes& changes) {
  auto net = network_from_config(site.conf);
  if (!net) return with_context(net.error(), site.layout.conf.string());
  network_edit edit(site, std::move(*net));
  BOOST_OUTCOME_TRY(edit.open());
  auto made = edit.make(changes);
  if (made && site.writes_conf()) made = network_to_config(edit.network(), site.conf);
  auto undo = std::move(edit).undo();
  if (!made) {
    if (undo) undo();
    return made.error();
  }
  return undo;
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::add_ip(const ip_address& addr, bool save) {
  return apply({.network = {.add_ips = {addr}}}, save);
}

result<void> ve::del_ip(const ip_address& addr, bool save) {
  return apply({.network = {.del_ips = {addr}}}, save);
}

result<void> ve::del_all_ips(bool save) { return apply({.network = {.del_all_ips = true}}, save); }

result<void> ve::add_netif(const netif_spec& spec, bool save) {
  return apply({.network = {.add_netifs = {spec}}}, save);
}

result<void> ve::del_netif(const std::string& ifname, bool save) {
  return apply({.network = {.del_netifs = {ifname}}}, save);
}

result<ve_network> ve::network() const {
  BOOST_OUTCOME_TRY(conf, config());
  auto net = detail::network_from_config(conf);
  if (!net) return detail::with_context(net.error(), fmt::format("VE {}", id_.value()));
  return net;
}

}  // namespace ovz::inline v0
