#include "kernel/address_announce.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

namespace ovz::detail {
namespace {

using mac = std::array<std::uint8_t, ETH_ALEN>;

result<mac> device_mac(int fd, const std::string& ifname) {
  ifreq ifr{};
  if (ifname.size() >= sizeof ifr.ifr_name)
    return fail(errc::invalid_argument, "device name '{}' is too long", excerpt(ifname));
  std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
  if (::ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return sys_fail(errno, "SIOCGIFHWADDR {}", ifname);
  mac m;
  std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, m.size());
  return m;
}

// RFC 5227's ARP announcement: a request whose sender and target are both the address.
result<void> arp_announce(int index, const std::string& ifname, const ip_address& a) {
  unique_fd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
  if (!fd) return sys_fail(errno, "socket AF_PACKET for ARP on {}", ifname);
  BOOST_OUTCOME_TRY(own, device_mac(fd.get(), ifname));
  struct [[gnu::packed]] {
    arphdr h;
    std::uint8_t sha[ETH_ALEN], spa[4], tha[ETH_ALEN], tpa[4];
  } pkt{};
  pkt.h.ar_hrd = htons(ARPHRD_ETHER);
  pkt.h.ar_pro = htons(ETH_P_IP);
  pkt.h.ar_hln = ETH_ALEN;
  pkt.h.ar_pln = 4;
  pkt.h.ar_op = htons(ARPOP_REQUEST);
  std::memcpy(pkt.sha, own.data(), ETH_ALEN);
  std::memcpy(pkt.spa, a.bytes.data(), 4);
  std::memcpy(pkt.tpa, a.bytes.data(), 4);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = index;
  to.sll_halen = ETH_ALEN;
  std::memset(to.sll_addr, 0xff, ETH_ALEN);
  if (::sendto(fd.get(), &pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
    return sys_fail(errno, "send ARP announcement of {} on {}", a.address(), ifname);
  return success();
}

// RFC 4861 7.2.6: an unsolicited advertisement to all nodes, override set, with the target's
// link-layer address; the kernel fills in the checksum and the device's link-local source.
result<void> na_announce(int index, const std::string& ifname, const ip_address& a) {
  unique_fd fd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!fd) return sys_fail(errno, "socket ICMPv6 on {}", ifname);
  unique_fd probe(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe) return sys_fail(errno, "socket for SIOCGIFHWADDR");
  BOOST_OUTCOME_TRY(own, device_mac(probe.get(), ifname));
  const int hops = 255;  // what a receiver checks: the packet never left the link
  if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0 ||
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) != 0)
    return sys_fail(errno, "setsockopt on the ICMPv6 socket for {}", ifname);
  struct [[gnu::packed]] {
    nd_neighbor_advert na;
    nd_opt_hdr opt;
    std::uint8_t lladdr[ETH_ALEN];
  } pkt{};
  pkt.na.nd_na_type = ND_NEIGHBOR_ADVERT;
  pkt.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
  std::memcpy(&pkt.na.nd_na_target, a.bytes.data(), 16);
  pkt.opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
  pkt.opt.nd_opt_len = 1;  // in units of 8 bytes
  std::memcpy(pkt.lladdr, own.data(), ETH_ALEN);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
  to.sin6_scope_id = static_cast<std::uint32_t>(index);
  if (::sendto(fd.get(), &pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
    return sys_fail(errno, "send neighbour advertisement of {} on {}", a.address(), ifname);
  return success();
}

}  // namespace

result<void> announce_address(int index, const std::string& ifname, const ip_address& a) {
  return a.family == AF_INET6 ? na_announce(index, ifname, a) : arp_announce(index, ifname, a);
}

}  // namespace ovz::detail
