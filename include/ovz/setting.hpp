#pragma once
/// @file
/// vzctl's setting names: `vzctl set --NAME VALUE` read into a ve_changes. ovzctl, the C ABI
/// (ovz_changes_add, ovz_ve_set_param, ovz_ve_set_security) and Python read them through
/// this one parser, so a name means the same everywhere.

#include <ovz/export.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include <optional>
#include <string_view>

namespace ovz::inline v0 {

/// What part of a ve_changes a setting changes.
enum class setting_kind {
  hostname,  ///< "hostname"
  /// a beancounter ("numproc", …), "cpuunits", "cpulimit", "cpus", "cpumask", "diskspace",
  /// "diskinodes", "quotatime", "quotaugidlimit"
  resource,
  security,  ///< "capability", "devnodes", "seccomp_profile", "no_new_privs"
  network,   ///< "ipadd", "ipdel", "netif_add", "netif_del"
  lifecycle, ///< "stop_timeout", "onboot"
  resolver,  ///< "nameserver", "searchdomain"
};

/// The kind of the setting `name` (any case), nullopt when no setting has that name.
OVZ_API std::optional<setting_kind> setting_kind_of(std::string_view name);

/// Adds `vzctl set --NAME VALUE` to `into`: "hostname"; a beancounter ("B" or "B:L", each
/// with an optional K, M, G, T or P suffix, or "unlimited"); "cpuunits", "cpulimit", "cpus"
/// (decimal numbers within their ranges); "cpumask" (a CPU list like "0-3,6" or "all");
/// "diskspace" ("SOFT[:HARD]" in 1 KiB blocks, each with an optional K, M, G or T suffix),
/// "diskinodes" ("SOFT[:HARD]" inodes), "quotatime" (seconds), "quotaugidlimit" (a count),
/// as parse_disk_limit and check_disk_params read them;
/// "capability" ("NAME:on|off ..."); "devnodes" ("NAME:r|w|rw|none ..."); "seccomp_profile"
/// (an absolute path, "default" or "unconfined"); "no_new_privs" ("yes" or "no"); "ipadd"
/// (an address, optionally "/PREFIX"); "ipdel" (an address or "all"); "netif_add"
/// ("ifname[,mac,host_ifname,host_mac,bridge]"); "netif_del" (a device name inside);
/// "stop_timeout" (whole seconds, 0 to 86400: CTID.conf's STOP_TIMEOUT); "onboot" ("yes" or
/// "no"); "nameserver" (an IPv4 or IPv6 address, or "inherit"); "searchdomain" (a domain
/// name, or "inherit"). Lists (capabilities, device nodes, addresses, devices, name servers,
/// search domains) grow, the rest is replaced. An unknown
/// name or a bad value is errc::invalid_argument, its message starting with the name, and
/// `into` is left as it was.
OVZ_API result<void> parse_setting(std::string_view name, std::string_view value,
                                   ve_changes& into);

}  // namespace ovz::inline v0
