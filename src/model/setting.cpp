#include <ovz/setting.hpp>

#include "fail.hpp"
#include "model/etc_files.hpp"
#include "model/shutdown.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <span>
#include <string>

namespace ovz::inline v0 {
namespace {

constexpr std::string_view cpu_numbers[] = {"cpuunits", "cpulimit", "cpus"};
constexpr std::string_view disk_names[] = {"diskspace", "diskinodes", "quotatime",
                                           "quotaugidlimit"};
constexpr std::string_view security_names[] = {"capability", "devnodes", "seccomp_profile",
                                               "no_new_privs"};
constexpr std::string_view network_names[] = {"ipadd", "ipdel", "netif_add", "netif_del"};

bool one_of(std::string_view name, std::span<const std::string_view> names) {
  return std::ranges::find(names, name) != names.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The value's error, its message after the setting's name.
template <class T>
error named(std::string_view name, const result<T>& r) {
  return error(make_error_code(errc::invalid_argument),
               fmt::format("{}: {}", name, r.error().message()));
}

error bad_value(std::string_view name, std::string_view value, std::string_view expected) {
  return detail::fail(errc::invalid_argument, "{}: \"{}\" is not {}", name,
                      detail::excerpt(value), expected);
}

// Each value is checked against its minimum as it is given, so that the refusal names it.
// A refused one leaves nothing behind: parse_setting works on a copy.
result<void> parse_disk(const std::string& name, std::string_view value, disk_params& d) {
  if (name == "diskspace" || name == "diskinodes") {
    auto limit = parse_disk_limit(value, name == "diskspace");
    if (!limit) return named(name, limit);
    (name == "diskspace" ? d.diskspace : d.diskinodes) = *limit;
  } else {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size())
      return bad_value(name, value, "a number");
    (name == "quotatime" ? d.quotatime : d.quotaugidlimit) = n;
  }
  if (auto ok = check_disk_params(d); !ok) return named(name, ok);
  return success();
}

result<void> parse_resource(const std::string& name, std::string_view value, ve_params& p) {
  if (one_of(name, disk_names)) return parse_disk(name, value, p.disk);
  if (one_of(name, cpu_numbers)) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size())
      return bad_value(name, value, "a number");
    cpu_params probe;
    (name == "cpuunits" ? probe.cpuunits : name == "cpulimit" ? probe.cpulimit : probe.cpus) = n;
    if (auto ok = check_cpu_params(probe); !ok) return named(name, ok);
    auto& field = name == "cpuunits"   ? p.cpu.cpuunits
                  : name == "cpulimit" ? p.cpu.cpulimit
                                       : p.cpu.cpus;
    field = n;
    return success();
  }
  if (name == "cpumask") {
    auto mask = parse_cpumask(value);
    if (!mask) return named(name, mask);
    p.cpu.cpumask = *mask;
    return success();
  }
  auto resource = parse_ubc_resource(name);
  if (!resource) return named(name, resource);
  auto v = parse_ubc_value(*resource, value);
  if (!v) return named(name, v);
  p.ubc.emplace_back(*resource, *v);
  return success();
}

result<void> parse_security(const std::string& name, std::string_view value,
                            security_changes& c) {
  if (name == "capability") {
    auto caps = parse_capabilities(value);
    if (!caps) return named(name, caps);
    c.capabilities.insert(c.capabilities.end(), caps->begin(), caps->end());
  } else if (name == "devnodes") {
    auto nodes = parse_devnodes(value);
    if (!nodes) return named(name, nodes);
    c.devnodes.insert(c.devnodes.end(), nodes->begin(), nodes->end());
  } else if (name == "seccomp_profile") {
    if (value != "default" && value != "unconfined" && !value.starts_with('/'))
      return bad_value(name, value, "default, unconfined or an absolute path");
    c.seccomp_profile = std::string(value);
  } else {
    if (value != "yes" && value != "no") return bad_value(name, value, "yes or no");
    c.no_new_privs = value == "yes";
  }
  return success();
}

result<void> parse_network(const std::string& name, std::string_view value,
                           network_changes& c) {
  if (name == "netif_del") {
    if (value.empty()) return bad_value(name, value, "a device name");
    c.del_netifs.emplace_back(value);
  } else if (name == "netif_add") {
    auto spec = netif_spec::parse(value);
    if (!spec) return named(name, spec);
    c.add_netifs.push_back(*spec);
  } else if (name == "ipdel" && value == "all") {
    c.del_all_ips = true;
  } else {
    auto a = ip_address::parse(value);
    if (!a) return named(name, a);
    (name == "ipadd" ? c.add_ips : c.del_ips).push_back(*a);
  }
  return success();
}

}  // namespace

std::optional<setting_kind> setting_kind_of(std::string_view name) {
  const std::string n = lower(name);
  if (n == "hostname") return setting_kind::hostname;
  if (one_of(n, security_names)) return setting_kind::security;
  if (one_of(n, network_names)) return setting_kind::network;
  if (n == "stop_timeout" || n == "onboot") return setting_kind::lifecycle;
  if (n == "nameserver" || n == "searchdomain") return setting_kind::resolver;
  if (one_of(n, cpu_numbers) || n == "cpumask" || one_of(n, disk_names) ||
      parse_ubc_resource(n))
    return setting_kind::resource;
  return std::nullopt;
}

result<void> parse_setting(std::string_view name, std::string_view value, ve_changes& into) {
  const auto kind = setting_kind_of(name);
  if (!kind)
    return detail::fail(errc::invalid_argument,
                        "unknown setting \"{}\": not hostname, a beancounter, cpuunits, "
                        "cpulimit, cpus, cpumask, diskspace, diskinodes, quotatime, "
                        "quotaugidlimit, capability, devnodes, seccomp_profile, "
                        "no_new_privs, ipadd, ipdel, netif_add, netif_del, stop_timeout, onboot, "
                        "nameserver or searchdomain",
                        detail::excerpt(name));
  const std::string n = lower(name);
  // Parsed into a copy, so that a refused value leaves `into` as it was.
  ve_changes next = into;
  result<void> ok = success();
  switch (*kind) {
    case setting_kind::hostname: next.hostname = std::string(value); break;
    case setting_kind::resource: ok = parse_resource(n, value, next.params); break;
    case setting_kind::security: ok = parse_security(n, value, next.security); break;
    case setting_kind::network: ok = parse_network(n, value, next.network); break;
    case setting_kind::resolver: {
      auto& list = n == "nameserver" ? next.nameservers : next.searchdomains;
      if (!list) list.emplace();
      list->emplace_back(value);
      ok = n == "nameserver" ? detail::check_nameservers(*list) : detail::check_searchdomains(*list);
      break;
    }
    case setting_kind::lifecycle: {
      if (n == "onboot") {
        if (value != "yes" && value != "no") {
          ok = bad_value(n, value, "yes or no");
          break;
        }
        next.onboot = value == "yes";
        break;
      }
      auto timeout = detail::parse_stop_timeout(value);
      if (!timeout) {
        ok = bad_value(n, value, "a number of seconds from 0 to 86400");
        break;
      }
      next.stop_timeout = std::chrono::duration_cast<std::chrono::seconds>(*timeout);
      break;
    }
  }
  if (!ok) return ok.error();
  into = std::move(next);
  return success();
}

}  // namespace ovz::inline v0
