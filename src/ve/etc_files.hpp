#pragma once
// What the host writes into a VE's /etc from CTID.conf, as vzctl's set_hostname and set_dns
// scripts did: /etc/hostname and /etc/hosts from HOSTNAME (and the first address),
// /etc/resolv.conf from NAMESERVER and SEARCHDOMAIN. At every start, before init runs, and
// at once when a running VE's settings change.

#include <ovz/config.hpp>
#include <ovz/network.hpp>
#include <ovz/result.hpp>

#include "ve/ve_tree.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {

struct etc_settings {
  std::string hostname{};
  std::string hosts_ip{};  // the VE's first address, else 127.0.1.1
  std::optional<std::vector<std::string>> nameservers{};  // "inherit" resolved; none: untouched
  std::optional<std::vector<std::string>> searchdomains{};
};

/// The settings for CTID.conf `conf` and the VE's `hostname` and network; `host_resolv` is
/// the host's resolv.conf (host_resolv_conf()), which "inherit" takes from. No system call.
result<etc_settings> etc_settings_for(const ve_config& conf, const std::string& hostname,
                                      const ve_network& net, std::string_view host_resolv);

/// True when CTID.conf takes something from the host's resolv.conf ("inherit").
bool inherits_resolver(const ve_config& conf);
/// The host's resolv.conf; where it names only a local stub resolver (systemd-resolved's
/// 127.0.0.53), the list of servers behind it (/run/systemd/resolve/resolv.conf).
result<std::string> host_resolv_conf();

/// Which files a write touches.
enum etc_part : unsigned { etc_names = 1, etc_resolver = 2 };

/// What the files were before a write, to put back.
struct etc_snapshot {
  std::vector<std::pair<std::string, std::optional<std::string>>> files{};  // name in /etc
};

/// Writes `parts` of `s` into the VE's /etc (nothing when it has none): each file replaced
/// atomically, its mode and owner kept (a new one owned by the VE's root). /etc/resolv.conf
/// only when NAMESERVER or SEARCHDOMAIN is set.
result<etc_snapshot> write_etc_files(const ve_tree& tree, const etc_settings& s,
                                     unsigned parts = etc_names | etc_resolver);
/// Puts back what write_etc_files replaced.
result<void> restore_etc_files(const ve_tree& tree, const etc_snapshot& before);

}  // namespace ovz::detail
