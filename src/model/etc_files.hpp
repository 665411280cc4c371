#pragma once
// The files of a VE's /etc the host keeps in line with CTID.conf, as vzctl's scripts did:
// /etc/hostname, /etc/hosts (HOSTNAME and the first address) and /etc/resolv.conf
// (NAMESERVER, SEARCHDOMAIN). Text in, text out: what the VE's owner wrote there otherwise
// stays.

#include <ovz/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// The value of NAMESERVER and SEARCHDOMAIN that means "the host's", as in vzctl.
inline constexpr std::string_view inherit = "inherit";

/// Name servers: IPv4 or IPv6 addresses without a prefix, or "inherit" alone.
result<void> check_nameservers(const std::vector<std::string>& servers);
/// Search domains: domain names (letters, digits, inner hyphens, dots; at most 253
/// characters), or "inherit" alone.
result<void> check_searchdomains(const std::vector<std::string>& domains);

/// The address /etc/hosts maps the VE's name to without an address of its own (Debian's).
inline constexpr std::string_view hosts_loopback = "127.0.1.1";
/// The comment above the line libovz keeps in /etc/hosts (vzctl's own, so that a VE moved
/// from vzctl keeps one line, not two).
inline constexpr std::string_view hosts_marker =
    "# Auto-generated hostname. Please do not remove this comment.";

/// `hosts` with a "127.0.0.1 localhost" line (added at the top when it has none) and,
/// below the marker comment, "IP FQDN SHORT" for `hostname` (replacing the line a previous
/// call put there; none for "localhost"), right after the localhost line when there was
/// none yet, so that lookups of the name find it first. Every other line stays.
std::string hosts_with_hostname(std::string_view hosts, std::string_view hostname,
                                std::string_view ip);

/// /etc/hostname's content: the name and a newline.
std::string hostname_file(std::string_view hostname);

/// `resolv` with its "search" (and "domain") lines replaced by one for `search` when set
/// (none when empty), and its "nameserver" lines by `servers` when set, appended; comments
/// and options stay.
std::string resolv_conf_with(std::string_view resolv,
                             const std::optional<std::vector<std::string>>& servers,
                             const std::optional<std::vector<std::string>>& search);

/// The name servers a resolv.conf names, except loopback ones (a resolver on the host's
/// 127.0.0.53 answers nowhere in a VE): what "inherit" takes from the host's.
std::vector<std::string> resolv_nameservers(std::string_view resolv);
/// The domains of its last "search" line (or "domain" line).
std::vector<std::string> resolv_search(std::string_view resolv);

}  // namespace ovz::detail
