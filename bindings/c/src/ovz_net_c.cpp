// The C ABI of a VE's network (ovz.h's ovz_ve_*_ip*, ovz_ve_*_netif, ovz_ve_network): routed
// addresses and bridged devices, changed as `vzctl set` changes them and read back.

#include <ovz.h>

#include "c_support.hpp"
#include "c_ve.hpp"

#include <ovz/network.hpp>
#include <ovz/ve.hpp>
#include <ovz/ve_params.hpp>

#include <cstddef>
#include <string>

using namespace ovz_c;

namespace {

// The i-th of a network list as text; OVZ_ENOTFOUND past its end.
template <class List, class Text>
int network_item(const char* fn, ovz_ve_t* ve, size_t i, char** out, List ovz::ve_network::*list,
                 Text text) {
  return guarded([&] {
    if (!ve || !out) return invalid(std::string(fn) + ": ve or out is NULL");
    auto n = ve->v.network();
    if (!n) return fail(n.error());
    const auto& items = (*n).*list;
    if (i >= items.size())
      return set_error(OVZ_ENOTFOUND, 0,
                       std::string(fn) + ": the VE has " + std::to_string(items.size()));
    *out = dup_string(text(items[i])).release();
    return 0;
  });
}

}  // namespace

extern "C" {

int ovz_ve_add_ip(ovz_ve_t* ve, const char* addr, int save) {
  return guarded([&] {
    if (!ve || !addr) return invalid("ovz_ve_add_ip: ve or addr is NULL");
    auto a = ovz::ip_address::parse(addr);
    if (!a) return fail(a.error());
    auto r = ve->v.add_ip(*a, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_del_ip(ovz_ve_t* ve, const char* addr, int save) {
  return guarded([&] {
    if (!ve || !addr) return invalid("ovz_ve_del_ip: ve or addr is NULL");
    auto a = ovz::ip_address::parse(addr);
    if (!a) return fail(a.error());
    auto r = ve->v.del_ip(*a, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_del_all_ips(ovz_ve_t* ve, int save) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_del_all_ips: ve is NULL");
    auto r = ve->v.del_all_ips(save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_add_netif(ovz_ve_t* ve, const char* spec, int save) {
  return guarded([&] {
    if (!ve || !spec) return invalid("ovz_ve_add_netif: ve or spec is NULL");
    auto s = ovz::netif_spec::parse(spec);
    if (!s) return fail(s.error());
    auto r = ve->v.add_netif(*s, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_del_netif(ovz_ve_t* ve, const char* ifname, int save) {
  return guarded([&] {
    if (!ve || !ifname) return invalid("ovz_ve_del_netif: ve or ifname is NULL");
    auto r = ve->v.del_netif(ifname, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_network(ovz_ve_t* ve, char** out) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_network: ve or out is NULL");
    auto r = ve->v.network();
    if (!r) return fail(r.error());
    ovz::ve_config text;
    if (!r->ip_addresses.empty()) {
      if (auto ok = text.set("IP_ADDRESS", ovz::format_ip_addresses(r->ip_addresses)); !ok)
        return fail(ok.error());
    }
    if (!r->netifs.empty()) {
      if (auto ok = text.set("NETIF", ovz::format_netifs(r->netifs)); !ok) return fail(ok.error());
    }
    *out = dup_string(text.serialize()).release();
    return 0;
  });
}

int ovz_ve_get_ip(ovz_ve_t* ve, size_t i, char** out) {
  return network_item("ovz_ve_get_ip", ve, i, out, &ovz::ve_network::ip_addresses,
                      [](const ovz::ip_address& a) { return a.str(); });
}

int ovz_ve_get_netif(ovz_ve_t* ve, size_t i, char** out) {
  return network_item("ovz_ve_get_netif", ve, i, out, &ovz::ve_network::netifs,
                      [](const ovz::netif_spec& s) { return s.str(); });
}

}  // extern "C"
