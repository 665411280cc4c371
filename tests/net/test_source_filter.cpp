// What a routed VE may send: only packets from addresses it was given leave its venet pair,
// whatever VE root puts on venet0. Seen from the LAN (what reaches lan0peer) and from the host
// itself (what its raw ICMP sockets receive). CTIDs 11500-11549.

#include "net/net_host.hpp"

#include "kernel/files.hpp"
#include "kernel/netlink.hpp"

#include <ovz/fd.hpp>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <chrono>
#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <thread>

using namespace ovz;
using namespace ovz::test;

namespace {

const char* lan_peer_v4 = "192.0.2.2";
const char* lan_peer_v6 = "2001:db8::2";

std::string text_of(int family, const void* bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes, buf, sizeof buf);
  return buf;
}

// The source addresses of the IP packets one socket receives, read without blocking.
class source_capture {
 public:
  // Every frame arriving on the LAN's far end: what this host sent to the LAN.
  static source_capture lan() {
    unique_fd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL)));
    REQUIRE(fd);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(::if_nametoindex("lan0peer"));
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) == 0);
    return source_capture(std::move(fd), true);
  }
  // ICMP delivered to the host itself.
  static source_capture host(int family) {
    unique_fd fd(::socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6}));
    REQUIRE(fd);
    return source_capture(std::move(fd), false);
  }

  std::set<std::string> sources() {
    std::set<std::string> out;
    unsigned char buf[2048];
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    ssize_t n;
    while ((n = ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from),
                           &len)) >= 0) {
      if (!frames_) {
        if (from.ss_family == AF_INET)
          out.insert(text_of(AF_INET, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr));
        else
          out.insert(text_of(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr));
      } else {
        auto proto = ntohs(reinterpret_cast<sockaddr_ll*>(&from)->sll_protocol);
        if (proto == ETH_P_IP && n >= 20) out.insert(text_of(AF_INET, buf + 12));
        if (proto == ETH_P_IPV6 && n >= 40) out.insert(text_of(AF_INET6, buf + 8));
      }
      len = sizeof from;
    }
    return out;
  }

 private:
  source_capture(unique_fd fd, bool frames) : fd_(std::move(fd)), frames_(frames) {}
  unique_fd fd_;
  bool frames_;
};

// Sends one echo request from each source in the VE, to the LAN peer and to the host, all at
// once, and waits for them. Fails the test unless each ping really sent its packet (a source
// the VE could not bind would prove nothing).
void ping_from(const ve& v, const std::vector<std::string>& sources) {
  std::string script;
  for (const auto& s : sources) {
    bool v6 = s.find(':') != std::string::npos;
    for (const char* to : {v6 ? lan_peer_v6 : lan_peer_v4, v6 ? lan_v6 : lan_v4})
      script += std::string(v6 ? "ping6" : "ping") + " -c 1 -W 1 -I " + s + " " + to + " & ";
  }
  script += "wait";
  auto r = sh(v, script);
  INFO(r.out << r.err);
  std::size_t sent = 0;
  for (auto at = r.out.find("1 packets transmitted"); at != std::string::npos;
       at = r.out.find("1 packets transmitted", at + 1))
    ++sent;
  REQUIRE(sent == 2 * sources.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

// Addresses VE root adds to its venet0 by itself; waits until IPv6 ones finished duplicate
// address detection (busybox ip has no nodad), so that they can be used as sources.
void add_by_hand(const ve& v, const std::vector<std::string>& addrs) {
  std::string script;
  for (const auto& a : addrs)
    script += "ip addr add " + a + (a.find(':') != std::string::npos ? "/128" : "/32") +
              " dev venet0 || exit 1; ";
  script += "for i in $(seq 50); do ip addr show dev venet0 | grep -q tentative || exit 0; "
            "sleep 0.1; done; exit 1";
  auto r = sh(v, script);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

// The LAN peers resolve without ARP or NDP (nobody answers on lan0peer), so that what the
// host forwards leaves on lan0; IPv6 is forwarded only with the host's global switch on.
struct lan_peers {
  detail::netlink::socket host = MUST(detail::netlink::socket::open());
  int lan = MUST(host.find_link("lan0"))->index;
  lan_peers() {
    const detail::netlink::mac m{0x02, 0, 0, 0, 0, 0x02};
    MUST(host.add_neighbour(lan, addr(lan_peer_v4), m));
    MUST(host.add_neighbour(lan, addr(lan_peer_v6), m));
    MUST(detail::write_file(forwarding, "1"));
  }
  ~lan_peers() {
    (void)detail::write_file(forwarding, "0");
    (void)host.delete_neighbour(lan, addr(lan_peer_v4), false);
    (void)host.delete_neighbour(lan, addr(lan_peer_v6), false);
  }
  static constexpr const char* forwarding = "/proc/sys/net/ipv6/conf/all/forwarding";
};

bool holds(const std::set<std::string>& seen, const std::string& a) { return seen.count(a) > 0; }

// Runs `f` on a thread of its own whose bpf(2) calls fail with EPERM (a seccomp filter is per
// thread): a kernel that refuses the filter, for this call only.
template <class F>
auto without_bpf(F&& f) {
  std::optional<std::invoke_result_t<F>> out;
  std::thread([&] {
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bpf, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
      out.emplace(f());
  }).join();
  REQUIRE(out);
  return std::move(*out);
}

}  // namespace

TEST_CASE("routed: the host drops packets from a source the VE was not given, IPv4 and IPv6",
          "[net][routed][spoof]") {
  require_net_host();
  const auto before = host_state();
  {
    lan_peers peers;
    temp_root root;
    auto a = root.open(11500), b = root.open(11501);
    for (auto* v : {&a, &b}) MUST(v->create());
    MUST(a.add_ip(addr("10.115.0.1"), true));
    MUST(a.add_ip(addr("fd00:115::1"), true));
    MUST(b.add_ip(addr("10.115.1.1"), true));
    MUST(b.add_ip(addr("fd00:115:1::1"), true));
    MUST(a.start());
    MUST(b.start());

    // B's addresses (routed to B) and nobody's, which the host would route to the LAN.
    const std::vector<std::string> spoofed = {"10.115.1.1", "192.0.2.99", "fd00:115:1::1",
                                              "2001:db8::99"};
    const std::vector<std::string> own = {"10.115.0.1", "fd00:115::1"};
    add_by_hand(a, spoofed);
    auto lan = source_capture::lan();
    auto host4 = source_capture::host(AF_INET), host6 = source_capture::host(AF_INET6);
    auto all = own;
    all.insert(all.end(), spoofed.begin(), spoofed.end());
    ping_from(a, all);
    auto on_lan = lan.sources(), at_host = host4.sources();
    at_host.merge(host6.sources());
    for (const auto& s : own) {
      INFO(s);
      CHECK(holds(on_lan, s));
      CHECK(holds(at_host, s));
    }
    for (const auto& s : spoofed) {
      INFO(s);
      CHECK_FALSE(holds(on_lan, s));
      CHECK_FALSE(holds(at_host, s));
    }

    // Neighbour discovery with the gateway: link-local sources pass.
    auto nd = sh(a, "for i in $(seq 20); do ping6 -c 1 -W 1 fe80::1%venet0 && exit 0; "
                    "sleep 0.1; done; exit 1");
    INFO(nd.out << nd.err);
    CHECK(nd.exit_code == 0);
  }
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
}

TEST_CASE("routed: add_ip and del_ip change what a running VE may send at once",
          "[net][routed][spoof]") {
  require_net_host();
  lan_peers peers;
  running_ve r(11502);
  // The kept ones stay throughout: they show that packets do leave the VE in each round.
  const std::vector<std::string> kept = {"10.115.2.2", "fd00:115:2::2"};
  const std::vector<std::string> changed = {"10.115.2.1", "fd00:115:2::1"};
  auto all = kept;
  all.insert(all.end(), changed.begin(), changed.end());
  for (const auto& s : all) MUST(r.v.add_ip(addr(s.c_str()), false));
  auto lan = source_capture::lan();
  ping_from(r.v, all);
  auto seen = lan.sources();
  for (const auto& s : all) {
    INFO(s);
    CHECK(holds(seen, s));
  }

  for (const auto& s : changed) MUST(r.v.del_ip(addr(s.c_str()), false));
  add_by_hand(r.v, changed);  // VE root takes them back
  ping_from(r.v, all);
  seen = lan.sources();
  for (const auto& s : kept) {
    INFO(s);
    CHECK(holds(seen, s));
  }
  for (const auto& s : changed) {
    INFO(s);
    CHECK_FALSE(holds(seen, s));
  }
}

TEST_CASE("routed: a VE whose source filter cannot be installed does not get the address, or "
          "does not start", "[net][routed][spoof]") {
  require_net_host();
  const auto before = host_state();
  {
    running_ve r(11503);
    auto added_ip = without_bpf([&] { return r.v.add_ip(addr("10.115.3.1"), false); });
    REQUIRE_FALSE(added_ip);
    INFO(added_ip.error().message());
    CHECK(added_ip.error().message().find("source address filter of venet11503") !=
          std::string::npos);
    CHECK(added_ip.error().message().find("Operation not permitted") != std::string::npos);
    CHECK_FALSE(contains(ve_net_state(r.v), "venet0"));
    CHECK_FALSE(contains(host_state(), "venet11503"));
    MUST(r.v.add_ip(addr("10.115.3.1"), true));  // and the VE is fine for the next try
    MUST(r.v.stop());

    auto started = without_bpf([&] { return r.v.start(); });
    REQUIRE_FALSE(started);
    INFO(started.error().message());
    // On cgroup v2 the devices program is refused first: the same failure, before the network.
    CHECK(started.error().message().find("BPF") != std::string::npos);
    CHECK(started.error().message().find("Operation not permitted") != std::string::npos);
    CHECK(MUST(r.v.status()).state == ve_state::stopped);
    CHECK(leftovers(r.root).empty());
  }
  INFO(joined(added(before, host_state())));
  CHECK(host_state() == before);
}
