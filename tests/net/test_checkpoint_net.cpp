// A checkpointed VE keeps its network: the same addresses, devices and host side after a
// restore, and a TCP connection from the host open across it; migrated online to another
// host (a second network namespace on a shared LAN) it keeps its address and a LAN client's
// connection. Where CRIU cannot work (this host's kernel) the tests say so and stop. CTIDs
// 17110-17119.

#include "net/net_host.hpp"

#include "kernel/netlink.hpp"

#include "kernel/files.hpp"

#include <ovz/checkpoint.hpp>
#include <ovz/migration.hpp>

#include <fcntl.h>
#include <sched.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

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
  // `fd`: a TCP socket made in the namespace the client lives in (by default the caller's).
  tcp_client(const char* ip, std::uint16_t port,
             int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
      : fd_(fd) {
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

// A network namespace of its own, another host or a LAN client, held by a thread that waits
// in it: its TID names it to netlink (IFLA_NET_NS_PID), and run() does something there on a
// thread that joined it (a network namespace is a thread's, so the test's threads stay).
class other_host {
 public:
  other_host() {
    std::promise<pid_t> made;
    holder_ = std::thread([&] {
      if (::unshare(CLONE_NEWNET) != 0) {
        made.set_value(-errno);
        return;
      }
      made.set_value(static_cast<pid_t>(::gettid()));
      std::unique_lock lk(m_);
      cv_.wait(lk, [&] { return done_; });
    });
    tid_ = made.get_future().get();
    if (tid_ > 0)
      ns_ = ::open(("/proc/self/task/" + std::to_string(tid_) + "/ns/net").c_str(),
                   O_RDONLY | O_CLOEXEC);
  }
  ~other_host() {
    {
      std::lock_guard lk(m_);
      done_ = true;
    }
    cv_.notify_all();
    holder_.join();
    if (ns_ >= 0) ::close(ns_);
  }
  other_host(const other_host&) = delete;
  other_host& operator=(const other_host&) = delete;

  pid_t tid() const {
    REQUIRE(ns_ >= 0);
    return tid_;
  }
  template <class F>
  auto run(F f) {
    REQUIRE(ns_ >= 0);
    return std::async(std::launch::async, [&] {
             if (::setns(ns_, CLONE_NEWNET) != 0) std::abort();
             return f();
           }).get();
  }

 private:
  std::thread holder_;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  pid_t tid_ = -1;
  int ns_ = -1;
};

void up_with_address(detail::netlink::socket& s, const std::string& dev, const char* a,
                     const char* net, int master = 0) {
  auto l = MUST(s.find_link(dev));
  REQUIRE(l);
  MUST(s.set_up(l->index, dev, std::nullopt, master));  // a route needs the link up
  if (a) {
    MUST(s.add_address(l->index, addr(a)));
    MUST(s.add_route(addr(net), l->index));
  }
}

void write_sysctl(const char* path, const std::string& value) {
  MUST(detail::write_file(path, value));
}

}  // namespace

TEST_CASE("routed: a VE migrated online to another host keeps its address and a LAN client's "
          "connection",
          "[net][routed][checkpoint][migrate]") {
  require_net_host();
  if (!checkpoint_works_here()) return;
  // The suite's namespace is host A; B is the other host; both reach a LAN (a bridge in the
  // client's namespace) on 198.51.100.0/24, where the client lives.
  other_host b, client;
  auto a = MUST(detail::netlink::socket::open());
  auto in_b = MUST(detail::netlink::socket::open_in(b.tid()));
  auto in_client = MUST(detail::netlink::socket::open_in(client.tid()));
  MUST(in_client.add_bridge("lan"));
  const int lan = MUST(in_client.find_link("lan"))->index;
  MUST(a.add_veth({"wanA", std::nullopt, 0}, {"portA", std::nullopt, client.tid()}));
  MUST(in_b.add_veth({"wanB", std::nullopt, 0}, {"portB", std::nullopt, client.tid()}));
  up_with_address(in_client, "lan", "198.51.100.100/24", "198.51.100.0/24");
  up_with_address(in_client, "portA", nullptr, nullptr, lan);
  up_with_address(in_client, "portB", nullptr, nullptr, lan);
  up_with_address(a, "wanA", "198.51.100.1/24", "198.51.100.0/24");
  up_with_address(in_b, "wanB", "198.51.100.2/24", "198.51.100.0/24");
  // A host answers ARP for its VEs on the LAN only when it forwards.
  const auto a_forwarded = MUST(detail::read_file("/proc/sys/net/ipv4/ip_forward"));
  write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
  b.run([] { write_sysctl("/proc/sys/net/ipv4/ip_forward", "1"); });
  // What B has for the VE: links, and routes, addresses and proxy entries of its address
  // (B's ARP cache of the LAN is B's own).
  auto b_for_ve = [&] {
    std::vector<std::string> out;
    for (const auto& l : b.run([] { return host_state(); }))
      if (l.starts_with("link ") ||
          (!l.starts_with("neigh ") && l.find("198.51.100.50") != std::string::npos))
        out.push_back(l);
    return out;
  };
  const auto b_before = b_for_ve();

  test::temp_root to;
  auto there = to.open(17112);
  // Whatever happens, nothing of the VE runs on in B.
  struct stopped_in_b {
    other_host& b;
    ve& v;
    ~stopped_in_b() {
      b.run([&] { return v.stop({.fast = true}); });
    }
  } guard{b, there};
  {
    running_ve r(17112);
    MUST(r.v.add_ip(addr("198.51.100.50"), true));
    start_echo_server(r.v, 7112);
    tcp_client c("198.51.100.50", 7112, client.run([] {
                   return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                 }));
    CHECK(c.echo("on host A\n") == "on host A\n");

    int ends[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
    auto received = std::async(std::launch::async, [&] {
      return b.run([&] { return receive_ve(ends[1], to.path()); });
    });
    auto sent = r.v.migrate(ends[0], {.online = true});
    ::shutdown(ends[0], SHUT_RDWR);
    auto got = received.get();
    ::close(ends[0]);
    ::close(ends[1]);
    INFO((sent ? "" : sent.error().message()) << (got ? "" : got.error().message()));
    REQUIRE(sent);
    REQUIRE(got);
    // A has nothing of it; B routes it and answers for it on the LAN.
    CHECK_FALSE(contains(host_state(), "198.51.100.50"));
    CHECK(contains(b_for_ve(), "proxy wanB 198.51.100.50"));
    // The client's connection goes on, to B now, and new ones reach it there.
    CHECK(c.echo("on host B\n") == "on host B\n");
    tcp_client fresh("198.51.100.50", 7112, client.run([] {
                       return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                     }));
    CHECK(fresh.echo("new on B\n") == "new on B\n");
    MUST(b.run([&] { return there.stop({.fast = true}); }));
    CHECK(b_for_ve() == b_before);
    CHECK(leftovers(to).empty());
  }
  write_sysctl("/proc/sys/net/ipv4/ip_forward", a_forwarded);
  MUST(a.delete_link(MUST(a.find_link("wanA"))->index, "wanA"));
}

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
