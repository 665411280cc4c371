// A checkpointed VE keeps its network: the same addresses, devices and host side after a
// restore, and a TCP connection from the host open across it. Where CRIU cannot work (this
// host's kernel) the tests say so and stop. CTIDs 17110-17119.

#include "net/net_host.hpp"

#include "kernel/netlink.hpp"

#include <ovz/checkpoint.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <regex>

using namespace ovz;
using namespace ovz::test;

namespace {

// The host's state with device indexes left out: a restore makes the VE's pairs anew.
std::vector<std::string> host_by_name() {
  std::vector<std::string> out;
  for (const auto& l : host_state()) out.push_back(std::regex_replace(l, std::regex("dev [0-9]+"), "dev #"));
  return out;
}

// A TCP connection of the host's, kept open by the test while the VE at its other end is
// checkpointed and restored.
class tcp_client {
 public:
  tcp_client(const char* ip, std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &sa.sin_addr);
    INFO("connect to " << ip << ":" << port << ": " << std::strerror(errno));
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  }
  ~tcp_client() { ::close(fd_); }
  tcp_client(const tcp_client&) = delete;
  tcp_client& operator=(const tcp_client&) = delete;

  // Sends a line and reads back as many bytes: the echo server's answer, or what went wrong.
  std::string echo(const std::string& line) {
    if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
      return std::string("send: ") + std::strerror(errno);
    std::string got;
    while (got.size() < line.size()) {
      char buf[256];
      ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, line.size() - got.size()), 0);
      if (n == 0) return got + " (connection closed)";
      if (n < 0) return got + " (recv: " + std::strerror(errno) + ")";
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("routed: a restored VE has its addresses back and a client's TCP connection goes on",
          "[net][routed][checkpoint]") {
  require_net_host();
  if (!checkpoint_works_here()) return;
  const auto host_before = host_state();
  {
    running_ve r(17110);
    MUST(r.v.add_ip(addr("10.171.10.1"), true));
    MUST(r.v.add_ip(addr("fd00:171:10::1"), true));
    start_echo_server(r.v, 7110);
    const auto host_running = host_by_name();
    const auto ve_running = ve_net_state(r.v);
    tcp_client client("10.171.10.1", 7110);
    CHECK(client.echo("before the dump\n") == "before the dump\n");

    MUST(r.v.checkpoint());
    CHECK(MUST(r.v.status()).state == ve_state::stopped);
    // Stopped, the VE's host side is gone with it.
    INFO("left while checkpointed:\n" << joined(added(host_before, host_state())));
    CHECK(added(host_before, host_state()).empty());

    MUST(r.v.restore());
    CHECK(MUST(r.v.status()).state == ve_state::running);
    INFO("host before the dump:\n" << joined(host_running) << "after the restore:\n"
                                   << joined(host_by_name()));
    CHECK(host_by_name() == host_running);
    CHECK(ve_net_state(r.v) == ve_running);
    CHECK(client.echo("after the restore\n") == "after the restore\n");
    // New connections too, over both families.
    CHECK(tcp_exchange("10.171.10.1", 7110, "new over IPv4") == "new over IPv4");
    CHECK(tcp_exchange("fd00:171:10::1", 7110, "new over IPv6") == "new over IPv6");
    MUST(r.v.stop({.fast = true}));
    CHECK(leftovers(r.root).empty());
  }
  INFO("left behind:\n" << joined(added(host_before, host_state())));
  CHECK(added(host_before, host_state()).empty());
}

TEST_CASE("bridged: a restored VE's device is back in its bridge with its host end",
          "[net][bridged][checkpoint]") {
  require_net_host();
  if (!checkpoint_works_here()) return;
  auto host = MUST(detail::netlink::socket::open());
  {
    running_ve r(17111);
    MUST(r.v.add_netif(MUST(netif_spec::parse("eth0,,,,br1711")), true));
    auto br = MUST(host.find_link("br1711"));
    REQUIRE(br);
    if (auto ok = host.add_address(br->index, addr("10.171.11.254/24")); ok) {
      MUST(host.add_route(addr("10.171.11.0/24"), br->index));
    }
    REQUIRE(sh(r.v, "ip addr add 10.171.11.1/24 dev eth0").exit_code == 0);
    start_echo_server(r.v, 7111);
    tcp_client client("10.171.11.1", 7111);
    CHECK(client.echo("bridged before\n") == "bridged before\n");
    // The VE's end and the devices (the new bridge's own addresses settle meanwhile).
    auto ve_side = [] {
      std::vector<std::string> out;
      for (const auto& l : host_by_name())
        if (l.starts_with("link ") || l.find("veth17111.0") != std::string::npos) out.push_back(l);
      return out;
    };
    const auto host_running = ve_side();

    MUST(r.v.checkpoint());
    CHECK_FALSE(MUST(host.find_link("veth17111.0")));
    MUST(r.v.restore());
    INFO("host before the dump:\n" << joined(host_running) << "after the restore:\n"
                                   << joined(ve_side()));
    CHECK(ve_side() == host_running);
    auto end = MUST(host.find_link("veth17111.0"));
    REQUIRE(end);
    const auto netif = MUST(r.v.network()).netifs.at(0);
    CHECK(sh(r.v, "ip link show eth0").out.find(netif.mac) != std::string::npos);
    // The address the VE's root gave its device came back with it, not from CTID.conf.
    CHECK(client.echo("bridged after\n") == "bridged after\n");
    MUST(r.v.stop({.fast = true}));
    CHECK_FALSE(MUST(host.find_link("veth17111.0")));
    CHECK(leftovers(r.root).empty());
  }
  auto br = MUST(host.find_link("br1711"));
  if (br) MUST(host.delete_link(br->index, "br1711"));
}
