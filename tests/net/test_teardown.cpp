// The clean-up at stop, failed start and destroy finds the VE's host devices by the names it
// knows (venet<CTID>, the run file, NETIF), never by listing every device of the host: a host
// stopping N VEs would otherwise read N devices N times. CTIDs 11550-11599.

#include "net/net_host.hpp"

#include "kernel/netlink.hpp"

#include <csignal>

using namespace ovz;
using namespace ovz::test;

namespace {

bool has_link(detail::netlink::socket& host, const std::string& name) {
  return MUST(host.find_link(name)).has_value();
}

}  // namespace

TEST_CASE("clean-up deletes the VE's host devices by name, live-added ones included, and "
          "nothing else that carries its alias", "[net][cleanup]") {
  require_net_host();
  const auto before = host_state();
  auto host = MUST(detail::netlink::socket::open());
  {
    temp_root root;
    auto v = root.open(11550);
    MUST(v.create());
    MUST(v.add_ip(addr("10.115.50.1"), true));
    MUST(v.add_netif(MUST(netif_spec::parse("eth0,,vs11550")), true));
    MUST(v.start());
    // Live only: CTID.conf never names it, the run file does.
    MUST(v.add_netif(MUST(netif_spec::parse("eth1,,vl11550")), false));
    const auto tag = MUST(host.find_link("venet11550"))->alias;
    REQUIRE(tag.starts_with("ovz:"));
    // Someone else's device that happens to carry the VE's alias (a renamed host end kept
    // by an admin, say): not a name the VE has, so not the VE's to delete.
    MUST(host.add_veth({"decoy11550", std::nullopt, 0}, {"decoy11550p", std::nullopt, 0}));
    auto decoy = MUST(host.find_link("decoy11550"));
    MUST(host.set_up(decoy->index, "decoy11550", tag));

    // A crash: init dies, the VE's namespace goes with it at its own pace, and the next
    // command cleans up what is left.
    auto st = MUST(v.status());
    REQUIRE(::kill(st.init_pid, SIGKILL) == 0);
    (void)v.stop();  // "not running" after the clean-up, or a stop if init is not reaped yet
    for (const char* name : {"venet11550", "vs11550", "vl11550"}) {
      INFO(name);
      CHECK_FALSE(has_link(host, name));
    }
    CHECK(has_link(host, "decoy11550"));

    // The same at a plain stop.
    MUST(v.start());
    MUST(v.add_netif(MUST(netif_spec::parse("eth1,,vl11550")), false));
    MUST(v.stop({.fast = true}));
    for (const char* name : {"venet11550", "vs11550", "vl11550"}) {
      INFO(name);
      CHECK_FALSE(has_link(host, name));
    }
    CHECK(has_link(host, "decoy11550"));
    decoy = MUST(host.find_link("decoy11550"));
    if (decoy) MUST(host.delete_link(decoy->index, "decoy11550"));
  }
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
}
