#pragma once
// A thin owner of libnl-3's route API: links (veth, bridge), addresses, routes and neighbour
// entries of one network namespace. Every libnl object lives in an RAII owner; errors name
// the netlink operation and carry the errno libnl's code stands for.

#include <ovz/network.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct nl_sock;

namespace ovz::detail::netlink {

using mac = std::array<std::uint8_t, 6>;

struct link_info {
  int index = 0;
  std::string name;
  std::string kind;   // "veth", "bridge", "dummy"…; empty for lo and plain devices
  std::string alias;  // IFLA_IFALIAS
  unsigned flags = 0; // IFF_*
  int master = 0;     // the bridge's ifindex, 0 when none
};

struct addr_info {
  int index = 0;
  ip_address local;  // with its prefix
};

struct route_info {
  int table = 0;
  int oif = 0;
  ip_address dst;  // with its prefix (0 for a default route)
  std::string str;  // as libnl prints it, for messages and leak reports
};

struct neigh_info {
  int index = 0;
  ip_address dst;
  bool proxy = false;
  int state = 0;  // NUD_*
};

/// One end of a veth pair: its name, MAC, and the namespace it goes to (the init PID of that
/// namespace; 0: the socket's own).
struct veth_end {
  std::string name;
  std::optional<mac> address;
  pid_t netns_pid = 0;
  unsigned mtu = 0;  // 0: the kernel's default (1500)
};

/// A NETLINK_ROUTE socket bound to one network namespace for its whole life.
class socket {
 public:
  /// In the caller's network namespace.
  static result<socket> open();
  /// In the network namespace of process `pid`. A short-lived thread joins it and opens the
  /// socket there: setns of a network namespace affects only the calling thread, and the
  /// socket stays in the namespace it was made in, so the caller's threads never move.
  static result<socket> open_in(pid_t pid);

  result<std::vector<link_info>> links();
  result<std::optional<link_info>> find_link(const std::string& name);
  /// A veth pair; `host` stays in this socket's namespace.
  result<void> add_veth(const veth_end& host, const veth_end& peer);
  result<void> add_bridge(const std::string& name);
  /// Deletes the link (and a veth's peer with it). A link already gone is not an error.
  result<void> delete_link(int index, const std::string& name);
  /// Sets the MAC and, when not 0, the MTU of a link (one that is down: a veth refuses a new
  /// MAC while up).
  result<void> set_hardware(int index, const std::string& name, const mac& address,
                            unsigned mtu = 0);
  /// Sets the alias of a link, and nothing else.
  result<void> set_alias(int index, const std::string& name, const std::string& alias);
  /// Sets IFF_UP, and when given the alias and the master (bridge) of a link.
  result<void> set_up(int index, const std::string& name,
                      const std::optional<std::string>& alias = std::nullopt,
                      int master = 0);
  /// Clears IFF_UP: the kernel drops the link's routes and neighbour entries with it.
  result<void> set_down(int index, const std::string& name);
  /// Renames a link, which must be down.
  result<void> rename(int index, const std::string& name, const std::string& new_name);

  result<std::vector<addr_info>> addresses();
  /// Adds `a` (its prefix, else the full length) without duplicate address detection and
  /// without the prefix route: the VE's routes are set explicitly.
  result<void> add_address(int index, const ip_address& a);
  /// Removes an address; one already gone is not an error.
  result<void> delete_address(int index, const ip_address& a);

  result<std::vector<route_info>> routes();
  /// A main-table route to `dst` (its prefix) out of `oif`, through `gateway` (on-link) when
  /// given.
  result<void> add_route(const ip_address& dst, int oif,
                         const std::optional<ip_address>& gateway = std::nullopt);
  /// Removes that route; one already gone is not an error.
  result<void> delete_route(const ip_address& dst, int oif);

  /// Neighbour entries; with `proxy` the proxy entries (ip neigh show proxy) instead.
  result<std::vector<neigh_info>> neighbours(bool proxy);
  /// A permanent neighbour entry, or a proxy entry (answering ARP/NDP for `dst` on the
  /// device) when `lladdr` is absent.
  result<void> add_neighbour(int index, const ip_address& dst, const std::optional<mac>& lladdr);
  /// Removes a permanent or proxy entry; one already gone is not an error.
  result<void> delete_neighbour(int index, const ip_address& dst, bool proxy);

  /// A clsact qdisc on the link: the hook its ingress filters hang on.
  result<void> add_clsact(int index);
  /// A BPF filter in direct-action mode on the link's ingress (clsact): the program's return
  /// value is the verdict (TC_ACT_OK, TC_ACT_SHOT).
  result<void> add_ingress_bpf(int index, int prog_fd, const std::string& prog_name);
  /// The IDs of the BPF programs filtering the link's ingress.
  result<std::vector<std::uint32_t>> ingress_bpf_programs(int index);

 private:
  // The name of a link for a message ("#INDEX" when it cannot be found): looked up only when
  // something failed, as the operations themselves take indexes.
  std::string name_of(int index);

  struct closer {
    void operator()(nl_sock* s) const noexcept;
  };
  explicit socket(nl_sock* s) : sk_(s) {}
  std::unique_ptr<nl_sock, closer> sk_;
};

}  // namespace ovz::detail::netlink
