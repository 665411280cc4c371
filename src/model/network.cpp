#include "model/network.hpp"

#include "fail.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>

namespace ovz::inline v0 {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

result<ip_address> ip_address::parse(std::string_view text) {
  auto bad = [&](const char* why) {
    return detail::fail(errc::invalid_argument, "Invalid IP address \"{}\": {}", detail::excerpt(text), why);
  };
  ip_address a;
  auto slash = text.find('/');
  std::string host(text.substr(0, slash));
  if (host.empty()) return bad("empty");
  if (::inet_pton(AF_INET, host.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
  } else if (::inet_pton(AF_INET6, host.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
  } else {
    return bad("not an IPv4 or IPv6 address");
  }
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || n > a.max_prefix())
      return bad(a.family == AF_INET ? "the prefix must be 0-32" : "the prefix must be 0-128");
    a.prefix = n;
  }
  return a;
}

std::string ip_address::address() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string ip_address::str() const {
  return prefix ? fmt::format("{}/{}", address(), *prefix) : address();
}

result<netif_spec> netif_spec::parse(std::string_view text) {
  auto fields = split(text, ',');
  if (fields.size() > 5)
    return detail::fail(errc::invalid_argument,
                        "Invalid network device \"{}\": expected "
                        "ifname[,mac,host_ifname,host_mac,bridge]",
                        detail::excerpt(text));
  netif_spec s;
  std::string* slots[] = {&s.ifname, &s.mac, &s.host_ifname, &s.host_mac, &s.bridge};
  for (std::size_t i = 0; i < fields.size(); ++i) *slots[i] = std::string(fields[i]);
  if (s.ifname.empty())
    return detail::fail(errc::invalid_argument, "Invalid network device \"{}\": no ifname", detail::excerpt(text));
  BOOST_OUTCOME_TRY(detail::check_netif(s));
  return s;
}

std::string netif_spec::str() const {
  const std::string* slots[] = {&ifname, &mac, &host_ifname, &host_mac, &bridge};
  std::size_t n = 5;
  while (n > 1 && slots[n - 1]->empty()) --n;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + *slots[i];
  return out;
}

result<std::vector<ip_address>> parse_ip_addresses(std::string_view value) {
  std::vector<ip_address> out;
  for (auto word : split(value, ' ')) {
    word = trim(word);
    if (word.empty()) continue;
    BOOST_OUTCOME_TRY(a, ip_address::parse(word));
    out.push_back(a);
  }
  return out;
}

std::string format_ip_addresses(const std::vector<ip_address>& addrs) {
  std::string out;
  for (const auto& a : addrs) out += (out.empty() ? "" : " ") + a.str();
  return out;
}

result<std::vector<netif_spec>> parse_netifs(std::string_view value) {
  std::vector<netif_spec> out;
  for (auto dev : split(value, ';')) {
    dev = trim(dev);
    if (dev.empty()) continue;
    netif_spec s;
    for (auto field : split(dev, ',')) {
      auto eq = field.find('=');
      auto key = field.substr(0, eq);
      auto val = eq == std::string_view::npos ? std::string_view{} : field.substr(eq + 1);
      std::string* slot = key == "ifname"        ? &s.ifname
                          : key == "mac"         ? &s.mac
                          : key == "host_ifname" ? &s.host_ifname
                          : key == "host_mac"    ? &s.host_mac
                          : key == "bridge"      ? &s.bridge
                                                 : nullptr;
      // vzctl also writes keys of features libovz does not have (network=, configure=): kept
      // out rather than refused, so a vzctl config still starts.
      if (!slot) continue;
      if (eq == std::string_view::npos)
        return detail::fail(errc::bad_config, "NETIF: \"{}\" is not key=value", detail::excerpt(field));
      *slot = std::string(val);
    }
    if (s.ifname.empty())
      return detail::fail(errc::bad_config, "NETIF: device \"{}\" has no ifname=", detail::excerpt(dev));
    if (auto ok = detail::check_netif(s); !ok)
      return detail::fail(errc::bad_config, "NETIF: {}", ok.error().message());
    out.push_back(std::move(s));
  }
  return out;
}

std::string format_netifs(const std::vector<netif_spec>& netifs) {
  std::string out;
  for (const auto& s : netifs) {
    if (!out.empty()) out += ';';
    out += "ifname=" + s.ifname;
    const std::pair<const char*, const std::string*> fields[] = {
        {"mac", &s.mac}, {"host_ifname", &s.host_ifname}, {"host_mac", &s.host_mac},
        {"bridge", &s.bridge}};
    for (const auto& [key, val] : fields)
      if (!val->empty()) out += fmt::format(",{}={}", key, *val);
  }
  return out;
}

}  // namespace ovz::inline v0

namespace ovz::detail {

result<void> check_ifname(std::string_view name, std::string_view what) {
  auto bad = [&](const char* why) {
    return fail(errc::invalid_argument, "Invalid {} \"{}\": {}", what, excerpt(name), why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() >= IFNAMSIZ) return bad("longer than 15 characters");
  if (name == "." || name == "..") return bad("not a device name");
  for (char c : name)
    if (c == '/' || c == ':' || c == ',' || c == ';' || c == '=' || c <= ' ' || c == 0x7f)
      return bad("may not contain '/', ':', ',', ';', '=' or blanks");
  return success();
}

result<mac_bytes> parse_mac(std::string_view text) {
  mac_bytes mac{};
  auto parts = split(text, ':');
  bool ok = parts.size() == 6;
  for (std::size_t i = 0; ok && i < 6; ++i) {
    auto p = parts[i];
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v, 16);
    ok = p.size() == 2 && ec == std::errc() && end == p.data() + p.size();
    mac[i] = static_cast<std::uint8_t>(v);
  }
  if (!ok)
    return fail(errc::invalid_argument, "Invalid MAC address \"{}\": expected xx:xx:xx:xx:xx:xx",
                excerpt(text));
  if (mac[0] & 1)
    return fail(errc::invalid_argument, "Invalid MAC address \"{}\": a multicast address", excerpt(text));
  if (mac == mac_bytes{})
    return fail(errc::invalid_argument, "Invalid MAC address \"{}\": all zero", excerpt(text));
  return mac;
}

std::string format_mac(const mac_bytes& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

mac_bytes stable_mac(ctid id, std::string_view ifname, std::string_view side) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64: stable across runs and builds
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  mix(id.str());
  mix(ifname);
  mix(side);
  mac_bytes m{};
  m[0] = 0x02;  // locally administered, unicast
  for (int i = 1; i < 6; ++i) m[i] = static_cast<std::uint8_t>(h >> (8 * (i - 1)));
  return m;
}

result<void> check_ve_address(const ip_address& a) {
  auto bad = [&](const char* why) {
    return fail(errc::invalid_argument, "Invalid VE address \"{}\": {}", excerpt(a.str()), why);
  };
  const auto& b = a.bytes;
  if (a.family == AF_INET) {
    if (b[0] == 0) return bad("unspecified (0.0.0.0/8)");
    if (b[0] == 127) return bad("a loopback address");
    if (b[0] >= 224) return bad("multicast, reserved or broadcast");
    if (b[0] == 169 && b[1] == 254) return bad("link-local (169.254.0.0/16 is the VE's gateway)");
  } else {
    static const std::array<std::uint8_t, 16> zero{}, loop{0, 0, 0, 0, 0, 0, 0, 0,
                                                           0, 0, 0, 0, 0, 0, 0, 1};
    if (b == zero) return bad("unspecified");
    if (b == loop) return bad("the loopback address");
    if (b[0] == 0xff) return bad("multicast");
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return bad("link-local (fe80::/10)");
  }
  return success();
}

std::string venet_host_ifname(ctid id) { return "venet" + id.str(); }

result<void> check_netif(const netif_spec& spec) {
  BOOST_OUTCOME_TRY(check_ifname(spec.ifname, "device name"));
  if (!spec.host_ifname.empty()) {
    BOOST_OUTCOME_TRY(check_ifname(spec.host_ifname, "host device name"));
  }
  if (!spec.bridge.empty()) {
    BOOST_OUTCOME_TRY(check_ifname(spec.bridge, "bridge name"));
  }
  if (!spec.mac.empty()) {
    BOOST_OUTCOME_TRY(parse_mac(spec.mac));
  }
  if (!spec.host_mac.empty()) {
    BOOST_OUTCOME_TRY(parse_mac(spec.host_mac));
  }
  if (spec.ifname == venet_ifname || spec.ifname == "lo")
    return fail(errc::invalid_argument, "Invalid device name \"{}\": reserved for the VE's {}",
                excerpt(spec.ifname), spec.ifname == "lo" ? "loopback" : "routed addresses");
  return success();
}

result<netif_spec> complete_netif(ctid id, netif_spec spec,
                                  const std::vector<netif_spec>& others) {
  BOOST_OUTCOME_TRY(check_netif(spec));
  if (spec.host_ifname.empty()) {
    for (unsigned n = 0;; ++n) {
      auto name = fmt::format("veth{}.{}", id.value(), n);
      if (std::ranges::none_of(others, [&](const netif_spec& o) { return o.host_ifname == name; })) {
        spec.host_ifname = name;
        break;
      }
    }
    if (auto ok = check_ifname(spec.host_ifname, "host device name"); !ok)
      return fail(errc::invalid_argument,
                  "VE {}: the default host device name {} is longer than 15 characters: give "
                  "one (ifname,mac,host_ifname)",
                  id.value(), spec.host_ifname);
  }
  if (spec.mac.empty()) spec.mac = format_mac(stable_mac(id, spec.ifname, "ve"));
  if (spec.host_mac.empty()) spec.host_mac = format_mac(stable_mac(id, spec.ifname, "host"));
  return spec;
}

result<ve_network> network_from_config(const ve_config& conf) {
  ve_network net;
  if (auto ips = conf.get("IP_ADDRESS")) {
    auto parsed = parse_ip_addresses(*ips);
    if (!parsed) return fail(errc::bad_config, "IP_ADDRESS: {}", parsed.error().message());
    net.ip_addresses = std::move(*parsed);
  }
  if (auto netifs = conf.get("NETIF")) {
    BOOST_OUTCOME_TRY(parsed, parse_netifs(*netifs));
    net.netifs = std::move(parsed);
  }
  return net;
}

result<void> network_to_config(const ve_network& net, ve_config& conf) {
  auto put = [&](std::string_view key, const std::string& value) -> result<void> {
    if (value.empty()) {
      conf.erase(key);
      return success();
    }
    return conf.set(key, value);
  };
  BOOST_OUTCOME_TRY(put("IP_ADDRESS", format_ip_addresses(net.ip_addresses)));
  return put("NETIF", format_netifs(net.netifs));
}

}  // namespace ovz::detail
