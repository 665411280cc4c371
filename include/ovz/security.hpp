#pragma once
/// @file
/// What confines a VE's processes beyond its namespaces: capabilities, device nodes, the
/// seccomp profile and no_new_privs, with OpenVZ's CTID.conf keys.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

class ve_config;

/// One entry of CAPABILITY="NAME:on|off ...": a capability, by libcap's name without the
/// "cap_" prefix ("net_admin"), given back to VE processes (on) or taken away (off).
struct capability_setting {
  std::string name;
  bool on = false;
  bool operator==(const capability_setting&) const = default;
};

/// Access to a device node, as DEVNODES spells it: "r", "w", "rw", or "none" (revoked).
enum class device_access { none = 0, read = 1, write = 2, read_write = 3 };

/// One entry of DEVNODES="NAME:ACCESS ...": the host's /dev/NAME ("net/tun", "loop0")
/// appears in the VE's /dev with that access, on top of null, zero, full, random, urandom,
/// tty and the VE's own pseudo-terminals, which every VE has.
struct devnode_grant {
  std::string name;
  device_access access = device_access::read_write;
  bool operator==(const devnode_grant&) const = default;
};

/// A VE's confinement, as CTID.conf holds it. Unset means the defaults: the capability drops
/// README.md lists, the built-in seccomp profile, and no no_new_privs (setuid programs such
/// as su, sudo and passwd keep working in a full OS).
struct ve_security {
  std::vector<capability_setting> capabilities{};  ///< CAPABILITY
  std::vector<devnode_grant> devnodes{};           ///< DEVNODES
  /// SECCOMP_PROFILE: empty or "default" for the built-in profile, "unconfined" for none,
  /// otherwise the absolute path of a profile file (see seccomp.hpp for its syntax).
  std::string seccomp_profile{};
  bool no_new_privs = false;  ///< NO_NEW_PRIVS="yes": set for every VE process
};

/// Changes to a ve_security; what is not named stays. Capabilities and devices are merged
/// by name (a devnode with access none is removed).
struct security_changes {
  std::vector<capability_setting> capabilities{};
  std::vector<devnode_grant> devnodes{};
  std::optional<std::string> seccomp_profile{};
  std::optional<bool> no_new_privs{};
};

/// "r", "w", "rw" or "none".
OVZ_API const char* to_string(device_access a) noexcept;

/// Parses "NAME:on|off ..." (CAPABILITY's value and `ovzctl set --capability`); names are
/// checked against libcap's, with or without "cap_", in any case.
OVZ_API result<std::vector<capability_setting>> parse_capabilities(std::string_view text);
/// Parses "NAME:r|w|rw|none ..." (DEVNODES's value and `ovzctl set --devnodes`). A name is a
/// path below /dev without "..", and it must not be one of the nodes every VE has.
OVZ_API result<std::vector<devnode_grant>> parse_devnodes(std::string_view text);

/// The confinement CTID.conf sets; errc::bad_config naming the key on a bad value.
OVZ_API result<ve_security> security_from_config(const ve_config& conf);
/// Writes it back in OpenVZ's keys; defaults remove their keys.
OVZ_API result<void> security_to_config(const ve_security& s, ve_config& conf);
/// `s` with `changes` applied, checked as security_from_config would check it.
OVZ_API result<ve_security> with_changes(ve_security s, const security_changes& changes);

}  // namespace ovz::inline v0
