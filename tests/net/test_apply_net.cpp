// Network changes in one change with the others (ve::apply, ovzctl set with several options):
// made live in order, saved once, and undone when a later part or the save fails. CTIDs
// 11700-11749.

#include "net/net_host.hpp"
#include "support/immutable_dir.hpp"

#include <ovz/beancounter.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

using namespace ovz;
using namespace ovz::test;

namespace {

// What of a running VE's network the tests look at: its links and addresses (without the
// link-local ones the kernel adds as it pleases), one line each, sorted.
std::vector<std::string> ve_devices(const ve& v) {
  std::vector<std::string> out;
  for (const auto& l : ve_net_state(v)) {
    const bool dev = l.starts_with("link ") && !l.starts_with("link lo ");
    const bool own_addr = l.starts_with("addr ") && !l.starts_with("addr lo ") &&
                          l.find(" fe80:") == std::string::npos;
    if (dev || own_addr) out.push_back(l);
  }
  return out;
}

// The host's links, one line each (name, kind, alias).
std::vector<std::string> host_links() {
  std::vector<std::string> out;
  std::ranges::copy_if(host_state(), std::back_inserter(out),
                       [](const std::string& l) { return l.starts_with("link "); });
  return out;
}

std::string hostname_of(const ve& v) { return MUST(v.exec({"/bin/hostname"})).out; }

ve_changes hostname_limit_and(network_changes network) {
  ve_changes c{.hostname = "new", .network = std::move(network)};
  c.params.ubc.push_back({ubc_resource::numproc, ubc_value{200, 200}});
  return c;
}

// ovzctl with `args` under the VE's state root; its exit status and both streams.
std::pair<int, std::string> ovzctl(const temp_root& root, const std::string& args) {
  const auto log = root.path() / "ovzctl.out";
  const auto cmd = std::string(OVZCTL_PATH) + " --root " + root.path().string() + " " + args +
                   " >" + log.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          std::string(std::istreambuf_iterator<char>(in), {})};
}

}  // namespace

TEST_CASE("apply with an address whose save fails leaves no address live", "[net][apply]") {
  require_net_host();
  running_ve r(11700);
  MUST(r.v.set_hostname("old", true));
  const auto conf_before = MUST(r.v.config()).serialize();
  const auto host_before = host_state();
  {
    immutable_dir frozen(r.root.path() / "conf");
    if (!frozen.held()) {
      WARN("SKIPPED: the state root's filesystem has no immutable flag (chattr +i)");
      return;
    }
    auto refused = r.v.apply(hostname_limit_and({.add_ips = {addr("10.117.0.1")}}), true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("Cannot save") != std::string::npos);
    CHECK(ve_devices(r.v).empty());
    CHECK(hostname_of(r.v) == "old\n");
    INFO(joined(added(host_before, host_state())));
    CHECK_FALSE(contains(host_state(), "10.117.0.1"));

    // ovzctl set sends its options as that one change.
    auto [status, out] = ovzctl(r.root, "set 11700 --hostname new --numproc 200 --ipadd "
                                        "10.117.0.1 --save");
    INFO(out);
    CHECK(status != 0);
    CHECK(out.find("Cannot save") != std::string::npos);
    CHECK(out.find("Adding IP address") == std::string::npos);
    CHECK(ve_devices(r.v).empty());
    CHECK(hostname_of(r.v) == "old\n");
    CHECK_FALSE(contains(host_state(), "10.117.0.1"));
  }
  CHECK(MUST(r.v.config()).serialize() == conf_before);
}

TEST_CASE("apply whose save fails brings back what its network parts deleted and takes "
          "away what they added", "[net][apply]") {
  require_net_host();
  temp_root root;
  auto v = root.open(11701);
  MUST(v.create({.hostname = "old"}));
  MUST(v.add_ip(addr("10.117.1.1"), true));
  MUST(v.add_ip(addr("fd00:117:1::1"), true));
  MUST(v.add_netif({.ifname = "eth0"}, true));
  MUST(v.start());
  const auto conf_before = MUST(v.config()).serialize();
  const auto devices_before = ve_devices(v);
  REQUIRE(contains(devices_before, "addr venet0 10.117.1.1/32"));
  REQUIRE(contains(devices_before, "link eth0 veth"));
  const auto links_before = host_links();
  const network_changes replace{.del_all_ips = true,
                                .add_ips = {addr("10.117.1.2")},
                                .del_netifs = {"eth0"},
                                .add_netifs = {{.ifname = "eth1"}}};
  {
    immutable_dir frozen(root.path() / "conf");
    if (!frozen.held()) {
      WARN("SKIPPED: the state root's filesystem has no immutable flag (chattr +i)");
      MUST(v.stop({.fast = true}));
      return;
    }
    auto refused = v.apply(hostname_limit_and(replace), true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("Cannot save") != std::string::npos);
  }
  CHECK(ve_devices(v) == devices_before);
  CHECK(host_links() == links_before);
  CHECK_FALSE(contains(host_state(), "10.117.1.2"));
  CHECK(hostname_of(v) == "old\n");
  CHECK(MUST(v.config()).serialize() == conf_before);

  // The same change with a save that works: every part live and saved.
  MUST(v.apply(hostname_limit_and(replace), true));
  const auto devices = ve_devices(v);
  INFO(joined(devices));
  CHECK(contains(devices, "addr venet0 10.117.1.2/32"));
  CHECK_FALSE(contains(devices, "10.117.1.1"));
  CHECK_FALSE(contains(devices, "fd00:117:1::1"));
  CHECK(contains(devices, "link eth1 veth"));
  CHECK_FALSE(contains(devices, "link eth0 "));
  CHECK(hostname_of(v) == "new\n");
  auto conf = MUST(v.config());
  CHECK(conf.get("IP_ADDRESS") == "10.117.1.2");
  CHECK(conf.get("NETIF").value_or("").starts_with("ifname=eth1,"));
  CHECK(conf.get("HOSTNAME") == "new");
  CHECK(conf.get("NUMPROC") == "200:200");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a network part refused after others were made live undoes them", "[net][apply]") {
  require_net_host();
  const auto host_before = host_state();
  {
    running_ve r(11702);
    MUST(r.v.set_hostname("old", true));
    const auto conf_before = MUST(r.v.config()).serialize();
    // lan0 is the suite's LAN device, not a bridge: refused after the address is live.
    auto refused = r.v.apply(
        hostname_limit_and({.add_ips = {addr("10.117.2.1")},
                            .add_netifs = {{.ifname = "eth0", .bridge = "lan0"}}}),
        true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("not a bridge") != std::string::npos);
    CHECK(ve_devices(r.v).empty());
    CHECK(hostname_of(r.v) == "old\n");
    CHECK_FALSE(contains(host_state(), "10.117.2.1"));
    CHECK(MUST(r.v.config()).serialize() == conf_before);
  }
  INFO(joined(added(host_before, host_state())));
  CHECK(host_state() == host_before);
}

TEST_CASE("one change deletes and adds the same address, as --ipdel X --ipadd X", "[net][apply]") {
  require_net_host();
  running_ve r(11703);
  MUST(r.v.add_ip(addr("10.117.3.1"), true));
  MUST(r.v.apply({.network = {.del_ips = {addr("10.117.3.1")},
                              .add_ips = {addr("10.117.3.1/24")}}},
                 true));
  const auto devices = ve_devices(r.v);
  INFO(joined(devices));
  CHECK(contains(devices, "addr venet0 10.117.3.1/24"));
  CHECK(std::ranges::count_if(devices, [](const std::string& l) { return l.starts_with("addr "); }) == 1);
  CHECK(MUST(r.v.config()).get("IP_ADDRESS") == "10.117.3.1/24");
}
