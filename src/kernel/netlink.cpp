#include "kernel/netlink.hpp"

#include "fail.hpp"
#include "kernel/ns_thread.hpp"

#include <ovz/fd.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <sched.h>

#include <cstring>

namespace ovz::detail::netlink {
namespace {

// libnl reports its own codes (NLE_*), having mapped the kernel's errno onto them; map back
// so callers can branch on EEXIST, ENODEV and the like.
int errno_of(int nle) {
  switch (nle < 0 ? -nle : nle) {
    case NLE_EXIST: return EEXIST;
    case NLE_NODEV: return ENODEV;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_PERM: return EPERM;
    case NLE_NOACCESS: return EACCES;
    case NLE_INVAL: return EINVAL;
    case NLE_BUSY: return EBUSY;
    case NLE_NOMEM: return ENOMEM;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_RANGE: return ERANGE;
    case NLE_AGAIN: return EAGAIN;
    case NLE_INTR: return EINTR;
    case NLE_MSGSIZE: return EMSGSIZE;
    case NLE_BAD_SOCK: return EBADF;
    default: return EIO;
  }
}

bool is_gone(int nle) {
  int e = errno_of(nle);
  return e == ENODEV || e == ENOENT || e == EADDRNOTAVAIL || e == ESRCH;
}

template <class... Args>
error nl_fail(int nle, fmt::format_string<Args...> f, Args&&... args) {
  return error(std::error_code(errno_of(nle), std::system_category()),
               fmt::format("netlink: {}: {}", fmt::format(f, std::forward<Args>(args)...),
                           nl_geterror(nle < 0 ? nle : -nle)));
}

template <class T, void (*Free)(T*)>
struct nl_deleter {
  void operator()(T* p) const noexcept {
    if (p) Free(p);
  }
};
template <class T, void (*Free)(T*)>
using owned = std::unique_ptr<T, nl_deleter<T, Free>>;
using link_ptr = owned<rtnl_link, rtnl_link_put>;
using addr_ptr = owned<rtnl_addr, rtnl_addr_put>;
using route_ptr = owned<rtnl_route, rtnl_route_put>;
using neigh_ptr = owned<rtnl_neigh, rtnl_neigh_put>;
using nladdr_ptr = owned<nl_addr, nl_addr_put>;
using cache_ptr = owned<nl_cache, nl_cache_free>;
using msg_ptr = owned<nl_msg, nlmsg_free>;
void cb_put(nl_cb* cb) { nl_cb_put(cb); }
using cb_ptr = owned<nl_cb, cb_put>;
using qdisc_ptr = owned<rtnl_qdisc, rtnl_qdisc_put>;

nladdr_ptr to_nl(const ip_address& a, bool with_prefix = true) {
  nladdr_ptr n(nl_addr_build(a.family, a.bytes.data(), a.family == AF_INET ? 4 : 16));
  if (n) nl_addr_set_prefixlen(n.get(), static_cast<int>(with_prefix ? a.prefix.value_or(a.max_prefix())
                                                                     : a.max_prefix()));
  return n;
}

nladdr_ptr to_nl(const mac& m) { return nladdr_ptr(nl_addr_build(AF_LLC, m.data(), m.size())); }

std::optional<ip_address> from_nl(nl_addr* n) {
  if (!n) return std::nullopt;
  int family = nl_addr_get_family(n);
  if (family != AF_INET && family != AF_INET6) return std::nullopt;
  ip_address a;
  a.family = family;
  auto len = std::min<unsigned>(nl_addr_get_len(n), 16);
  if (len) std::memcpy(a.bytes.data(), nl_addr_get_binary_addr(n), len);
  a.prefix = nl_addr_get_prefixlen(n);
  return a;
}

// A dump into a libnl cache, walked object by object.
template <class Obj, class F>
void for_each(nl_cache* c, F&& f) {
  for (nl_object* o = nl_cache_get_first(c); o; o = nl_cache_get_next(o))
    f(reinterpret_cast<Obj*>(o));
}

link_info info_of(rtnl_link* l) {
  link_info i;
  i.index = rtnl_link_get_ifindex(l);
  if (const char* n = rtnl_link_get_name(l)) i.name = n;
  if (const char* k = rtnl_link_get_type(l)) i.kind = k;
  if (const char* a = rtnl_link_get_ifalias(l)) i.alias = a;
  i.flags = rtnl_link_get_flags(l);
  i.master = rtnl_link_get_master(l);
  return i;
}

}  // namespace

void socket::closer::operator()(nl_sock* s) const noexcept { nl_socket_free(s); }

result<socket> socket::open() {
  nl_sock* s = nl_socket_alloc();
  if (!s) return sys_fail(ENOMEM, "netlink: allocate a socket");
  socket sock(s);
  if (int err = nl_connect(s, NETLINK_ROUTE); err < 0)
    return nl_fail(err, "connect a NETLINK_ROUTE socket");
  return sock;
}

result<socket> socket::open_in(pid_t pid) {
  unique_fd ns(::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return sys_fail(errno, "open /proc/{}/ns/net", pid);
  return on_own_thread<socket>("open a netlink socket in a VE", [&]() -> result<socket> {
    if (::setns(ns.get(), CLONE_NEWNET) != 0)
      return sys_fail(errno, "setns into the network namespace of PID {}", pid);
    return open();
  });
}

result<std::vector<link_info>> socket::links() {
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sk_.get(), AF_UNSPEC, &raw); err < 0)
    return nl_fail(err, "dump links");
  cache_ptr c(raw);
  std::vector<link_info> out;
  for_each<rtnl_link>(c.get(), [&](rtnl_link* l) { out.push_back(info_of(l)); });
  return out;
}

std::string socket::name_of(int index) {
  if (auto all = links()) {
    for (const auto& l : *all)
      if (l.index == index) return l.name;
  }
  return fmt::format("#{}", index);
}

// One RTM_GETLINK by name rather than a dump: a host may have thousands of VE devices.
result<std::optional<link_info>> socket::find_link(const std::string& name) {
  rtnl_link* raw = nullptr;
  int err = rtnl_link_get_kernel(sk_.get(), 0, name.c_str(), &raw);
  if (err < 0) {
    if (is_gone(err)) return std::optional<link_info>();
    return nl_fail(err, "look up link {}", name);
  }
  link_ptr l(raw);
  return std::optional<link_info>(info_of(l.get()));
}

result<void> socket::add_veth(const veth_end& host, const veth_end& peer) {
  link_ptr l(rtnl_link_veth_alloc());
  if (!l) return sys_fail(ENOMEM, "netlink: allocate a veth");
  rtnl_link* p = rtnl_link_veth_get_peer(l.get());
  auto describe = [](rtnl_link* link, const veth_end& end) {
    rtnl_link_set_name(link, end.name.c_str());
    if (end.address) {
      auto a = to_nl(*end.address);
      rtnl_link_set_addr(link, a.get());
    }
    if (end.netns_pid) rtnl_link_set_ns_pid(link, end.netns_pid);
    if (end.mtu) rtnl_link_set_mtu(link, end.mtu);
  };
  describe(l.get(), host);
  describe(p, peer);
  int err = rtnl_link_add(sk_.get(), l.get(), NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(p);  // veth_get_peer took a reference
  if (err < 0) return nl_fail(err, "create veth pair {} / {}", host.name, peer.name);
  return success();
}

result<void> socket::add_bridge(const std::string& name) {
  if (int err = rtnl_link_bridge_add(sk_.get(), name.c_str()); err < 0)
    return nl_fail(err, "create bridge {}", name);
  return success();
}

result<void> socket::delete_link(int index, const std::string& name) {
  link_ptr l(rtnl_link_alloc());
  rtnl_link_set_ifindex(l.get(), index);
  if (int err = rtnl_link_delete(sk_.get(), l.get()); err < 0 && !is_gone(err))
    return nl_fail(err, "delete link {}", name);
  return success();
}

namespace {

// One change of link `index`: what `fill` sets on it; `doing` names it for the error.
template <class Fill>
result<void> change_link(nl_sock* sk, int index, Fill&& fill, const std::string& doing) {
  link_ptr orig(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig.get(), index);
  link_ptr change(rtnl_link_alloc());
  fill(change.get());
  if (int err = rtnl_link_change(sk, orig.get(), change.get(), 0); err < 0)
    return nl_fail(err, "{}", doing);
  return success();
}

}  // namespace

result<void> socket::set_hardware(int index, const std::string& name, const mac& address,
                                  unsigned mtu) {
  nladdr_ptr lladdr = to_nl(address);
  return change_link(
      sk_.get(), index,
      [&](rtnl_link* l) {
        rtnl_link_set_addr(l, lladdr.get());
        if (mtu) rtnl_link_set_mtu(l, mtu);
      },
      fmt::format("set the MAC of link {}", name));
}

result<void> socket::set_alias(int index, const std::string& name, const std::string& alias) {
  return change_link(
      sk_.get(), index, [&](rtnl_link* l) { rtnl_link_set_ifalias(l, alias.c_str()); },
      fmt::format("set the alias of link {}", name));
}

result<void> socket::set_up(int index, const std::string& name,
                            const std::optional<std::string>& alias, int master) {
  return change_link(
      sk_.get(), index,
      [&](rtnl_link* l) {
        rtnl_link_set_flags(l, IFF_UP);
        if (alias) rtnl_link_set_ifalias(l, alias->c_str());
        if (master) rtnl_link_set_master(l, master);
      },
      fmt::format("set link {} up", name));
}

result<void> socket::set_down(int index, const std::string& name) {
  return change_link(
      sk_.get(), index, [](rtnl_link* l) { rtnl_link_unset_flags(l, IFF_UP); },
      fmt::format("set link {} down", name));
}

result<void> socket::rename(int index, const std::string& name, const std::string& new_name) {
  return change_link(
      sk_.get(), index, [&](rtnl_link* l) { rtnl_link_set_name(l, new_name.c_str()); },
      fmt::format("rename link {} to {}", name, new_name));
}

result<std::vector<addr_info>> socket::addresses() {
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sk_.get(), &raw); err < 0)
    return nl_fail(err, "dump addresses");
  cache_ptr c(raw);
  std::vector<addr_info> out;
  for_each<rtnl_addr>(c.get(), [&](rtnl_addr* a) {
    if (auto local = from_nl(rtnl_addr_get_local(a))) {
      local->prefix = static_cast<unsigned>(rtnl_addr_get_prefixlen(a));
      out.push_back({rtnl_addr_get_ifindex(a), *local});
    }
  });
  return out;
}

namespace {
addr_ptr make_addr(int index, const ip_address& a) {
  addr_ptr r(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(r.get(), index);
  rtnl_addr_set_family(r.get(), a.family);
  auto local = to_nl(a);
  rtnl_addr_set_local(r.get(), local.get());
  rtnl_addr_set_prefixlen(r.get(), static_cast<int>(a.prefix.value_or(a.max_prefix())));
  return r;
}
}  // namespace

result<void> socket::add_address(int index, const ip_address& a) {
  auto r = make_addr(index, a);
  rtnl_addr_set_flags(r.get(), IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
  if (int err = rtnl_addr_add(sk_.get(), r.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return nl_fail(err, "add address {} to {}", a.str(), name_of(index));
  return success();
}

result<void> socket::delete_address(int index, const ip_address& a) {
  auto r = make_addr(index, a);
  if (int err = rtnl_addr_delete(sk_.get(), r.get(), 0); err < 0 && !is_gone(err))
    return nl_fail(err, "delete address {} from {}", a.str(), name_of(index));
  return success();
}

result<std::vector<route_info>> socket::routes() {
  nl_cache* raw = nullptr;
  if (int err = rtnl_route_alloc_cache(sk_.get(), AF_UNSPEC, 0, &raw); err < 0)
    return nl_fail(err, "dump routes");
  cache_ptr c(raw);
  std::vector<route_info> out;
  for_each<rtnl_route>(c.get(), [&](rtnl_route* r) {
    auto dst = from_nl(rtnl_route_get_dst(r));
    if (!dst) return;
    route_info i;
    i.table = static_cast<int>(rtnl_route_get_table(r));
    if (rtnl_route_get_nnexthops(r) > 0)
      i.oif = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
    i.dst = *dst;
    char buf[512] = {};
    nl_object_dump_buf(reinterpret_cast<nl_object*>(r), buf, sizeof buf);
    i.str = buf;
    while (!i.str.empty() && (i.str.back() == '\n' || i.str.back() == ' ')) i.str.pop_back();
    out.push_back(std::move(i));
  });
  return out;
}

namespace {
route_ptr make_route(const ip_address& dst, int oif, const std::optional<ip_address>& gateway) {
  route_ptr r(rtnl_route_alloc());
  rtnl_route_set_family(r.get(), static_cast<uint8_t>(dst.family));
  auto d = to_nl(dst);
  rtnl_route_set_dst(r.get(), d.get());
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_scope(r.get(), gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, oif);
  if (gateway) {
    auto g = to_nl(*gateway, false);
    rtnl_route_nh_set_gateway(nh, g.get());
    rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
  }
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns it now
  return r;
}
}  // namespace

result<void> socket::add_route(const ip_address& dst, int oif,
                               const std::optional<ip_address>& gateway) {
  auto r = make_route(dst, oif, gateway);
  if (int err = rtnl_route_add(sk_.get(), r.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return nl_fail(err, "add route {}{} dev {}", dst.str(),
                   gateway ? " via " + gateway->address() : std::string(), name_of(oif));
  return success();
}

result<void> socket::delete_route(const ip_address& dst, int oif) {
  auto r = make_route(dst, oif, std::nullopt);
  if (int err = rtnl_route_delete(sk_.get(), r.get(), 0); err < 0 && !is_gone(err))
    return nl_fail(err, "delete route {} dev {}", dst.str(), name_of(oif));
  return success();
}

result<std::vector<neigh_info>> socket::neighbours(bool proxy) {
  // libnl's neighbour cache asks for a plain dump; proxy entries need NTF_PROXY in the
  // request's ndmsg, so the dump is made by hand and each answer parsed by libnl.
  ndmsg req{};
  req.ndm_family = AF_UNSPEC;
  req.ndm_flags = proxy ? NTF_PROXY : 0;
  msg_ptr msg(nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_DUMP));
  if (!msg || nlmsg_append(msg.get(), &req, sizeof req, NLMSG_ALIGNTO) < 0)
    return sys_fail(ENOMEM, "netlink: build a neighbour dump request");
  if (int err = nl_send_auto(sk_.get(), msg.get()); err < 0)
    return nl_fail(err, "dump neighbours");
  struct collected {
    std::vector<neigh_info> list;
    bool proxy;
  } out{{}, proxy};
  cb_ptr cb(nl_cb_alloc(NL_CB_DEFAULT));
  if (!cb) return sys_fail(ENOMEM, "netlink: allocate a callback");
  nl_cb_set(
      cb.get(), NL_CB_VALID, NL_CB_CUSTOM,
      [](nl_msg* m, void* arg) -> int {
        auto* o = static_cast<collected*>(arg);
        rtnl_neigh* raw = nullptr;
        if (rtnl_neigh_parse(nlmsg_hdr(m), &raw) < 0 || !raw) return NL_SKIP;
        neigh_ptr n(raw);
        if (auto dst = from_nl(rtnl_neigh_get_dst(n.get()))) {
          dst->prefix.reset();
          o->list.push_back({rtnl_neigh_get_ifindex(n.get()), *dst, o->proxy,
                             rtnl_neigh_get_state(n.get())});
        }
        return NL_OK;
      },
      &out);
  if (int err = nl_recvmsgs(sk_.get(), cb.get()); err < 0) return nl_fail(err, "dump neighbours");
  return std::move(out.list);
}

namespace {
neigh_ptr make_neigh(int index, const ip_address& dst, bool proxy) {
  neigh_ptr n(rtnl_neigh_alloc());
  rtnl_neigh_set_ifindex(n.get(), index);
  rtnl_neigh_set_family(n.get(), dst.family);
  auto d = to_nl(dst, false);
  rtnl_neigh_set_dst(n.get(), d.get());
  if (proxy) rtnl_neigh_set_flags(n.get(), NTF_PROXY);
  return n;
}
}  // namespace

result<void> socket::add_neighbour(int index, const ip_address& dst,
                                   const std::optional<mac>& lladdr) {
  auto n = make_neigh(index, dst, !lladdr);
  if (lladdr) {
    auto ll = to_nl(*lladdr);
    rtnl_neigh_set_lladdr(n.get(), ll.get());
    rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
  }
  if (int err = rtnl_neigh_add(sk_.get(), n.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
    return nl_fail(err, "add {}neighbour {} on {}", lladdr ? "" : "proxy ", dst.address(),
                   name_of(index));
  return success();
}

result<void> socket::delete_neighbour(int index, const ip_address& dst, bool proxy) {
  auto n = make_neigh(index, dst, proxy);
  if (int err = rtnl_neigh_delete(sk_.get(), n.get(), 0); err < 0 && !is_gone(err))
    return nl_fail(err, "delete {}neighbour {} on {}", proxy ? "proxy " : "",
                   dst.address(), name_of(index));
  return success();
}

namespace {
// Where clsact's ingress filters hang.
constexpr std::uint32_t clsact_ingress = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
}  // namespace

result<void> socket::add_clsact(int index) {
  qdisc_ptr q(rtnl_qdisc_alloc());
  if (!q) return sys_fail(ENOMEM, "netlink: allocate a qdisc");
  rtnl_tc_set_ifindex(TC_CAST(q.get()), index);
  rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_CLSACT);
  rtnl_tc_set_handle(TC_CAST(q.get()), TC_H_MAKE(TC_H_CLSACT, 0));
  if (int err = rtnl_tc_set_kind(TC_CAST(q.get()), "clsact"); err < 0)
    return nl_fail(err, "make a clsact qdisc for {}", name_of(index));
  if (int err = rtnl_qdisc_add(sk_.get(), q.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return nl_fail(err, "add a clsact qdisc to {} (kernel module sch_ingress)", name_of(index));
  return success();
}

// libnl has no cls_bpf: the request is built by hand, as `tc filter add ... bpf da` sends it.
result<void> socket::add_ingress_bpf(int index, int prog_fd, const std::string& prog_name) {
  msg_ptr msg(nlmsg_alloc_simple(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL));
  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = index;
  t.tcm_handle = 1;
  t.tcm_parent = clsact_ingress;
  t.tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));  // priority 1, every protocol
  nlattr* opts = nullptr;
  bool built = msg && nlmsg_append(msg.get(), &t, sizeof t, NLMSG_ALIGNTO) == 0 &&
               nla_put_string(msg.get(), TCA_KIND, "bpf") == 0 &&
               (opts = nla_nest_start(msg.get(), TCA_OPTIONS)) != nullptr &&
               nla_put_u32(msg.get(), TCA_BPF_FD, static_cast<std::uint32_t>(prog_fd)) == 0 &&
               nla_put_string(msg.get(), TCA_BPF_NAME, prog_name.c_str()) == 0 &&
               nla_put_u32(msg.get(), TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) == 0;
  if (!built) return sys_fail(ENOMEM, "netlink: build a BPF filter request");
  nla_nest_end(msg.get(), opts);
  int err = nl_send_auto(sk_.get(), msg.get());
  if (err >= 0) err = nl_wait_for_ack(sk_.get());
  if (err < 0)
    return nl_fail(err, "add BPF filter {} to the ingress of {} (kernel module cls_bpf)",
                   prog_name, name_of(index));
  return success();
}

result<std::vector<std::uint32_t>> socket::ingress_bpf_programs(int index) {
  msg_ptr msg(nlmsg_alloc_simple(RTM_GETTFILTER, NLM_F_DUMP));
  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = index;
  t.tcm_parent = clsact_ingress;
  if (!msg || nlmsg_append(msg.get(), &t, sizeof t, NLMSG_ALIGNTO) < 0)
    return sys_fail(ENOMEM, "netlink: build a filter dump request");
  if (int err = nl_send_auto(sk_.get(), msg.get()); err < 0)
    return nl_fail(err, "dump the ingress filters of {}", name_of(index));
  std::vector<std::uint32_t> ids;
  cb_ptr cb(nl_cb_alloc(NL_CB_DEFAULT));
  if (!cb) return sys_fail(ENOMEM, "netlink: allocate a callback");
  nl_cb_set(
      cb.get(), NL_CB_VALID, NL_CB_CUSTOM,
      [](nl_msg* m, void* arg) -> int {
        nlattr* tb[TCA_MAX + 1] = {};
        nlattr* opts[TCA_BPF_MAX + 1] = {};
        if (nlmsg_parse(nlmsg_hdr(m), sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0 ||
            !tb[TCA_KIND] || std::strcmp(nla_get_string(tb[TCA_KIND]), "bpf") != 0 ||
            !tb[TCA_OPTIONS] ||
            nla_parse_nested(opts, TCA_BPF_MAX, tb[TCA_OPTIONS], nullptr) < 0 ||
            !opts[TCA_BPF_ID])
          return NL_SKIP;
        static_cast<std::vector<std::uint32_t>*>(arg)->push_back(nla_get_u32(opts[TCA_BPF_ID]));
        return NL_OK;
      },
      &ids);
  if (int err = nl_recvmsgs(sk_.get(), cb.get()); err < 0)
    return nl_fail(err, "dump the ingress filters of {}", name_of(index));
  return ids;
}

}  // namespace ovz::detail::netlink
