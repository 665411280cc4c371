#include <ovz/config.hpp>
#include <ovz/security.hpp>

#include "fail.hpp"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace ovz::inline v0 {
namespace {

error bad_key(std::string_view key, const error& e) {
  return detail::fail(errc::bad_config, "CTID.conf: {}: {}", key, e.message());
}

// "NAME:STATE" split at the last ':'; a missing ':' gives an empty state.
std::pair<std::string, std::string> split_item(const std::string& item) {
  auto colon = item.rfind(':');
  if (colon == std::string::npos) return {item, ""};
  return {item.substr(0, colon), item.substr(colon + 1)};
}

std::vector<std::string> words(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Every VE has these; granting or revoking them would break its terminals and shells.
bool is_builtin_node(std::string_view name) {
  for (std::string_view b : {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts",
                             "shm", "fd", "stdin", "stdout", "stderr"}) {
    if (name == b || (name.size() > b.size() && name.substr(0, b.size()) == b &&
                      name[b.size()] == '/'))
      return true;
  }
  return false;
}

result<void> check_devnode_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return detail::fail(errc::invalid_argument, "DEVNODES: \"{}\" {}", detail::excerpt(name), why);
  };
  if (name.empty() || name.size() > 64) return bad("is not a device name of 1 to 64 characters");
  if (name.front() == '/') return bad("must be named below /dev, without \"/dev/\"");
  const bool allowed_chars = std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '/';
  });
  if (!allowed_chars) return bad("has characters other than letters, digits and ._+-/");
  std::string padded = "/" + std::string(name) + "/";
  if (padded.find("/../") != std::string::npos || padded.find("/./") != std::string::npos ||
      padded.find("//") != std::string::npos)
    return bad("is not a plain path below /dev");
  if (is_builtin_node(name)) return bad("is a node every VE has");
  return success();
}

std::optional<device_access> parse_access(std::string_view text) {
  for (auto a : {device_access::none, device_access::read, device_access::write,
                 device_access::read_write}) {
    if (text == to_string(a)) return a;
  }
  if (text == "wr") return device_access::read_write;
  return std::nullopt;
}

template <class T, class Same>
void upsert(std::vector<T>& list, const T& item, Same same) {
  auto it = std::find_if(list.begin(), list.end(), [&](const T& x) { return same(x, item); });
  if (it != list.end())
    *it = item;
  else
    list.push_back(item);
}

}  // namespace

const char* to_string(device_access a) noexcept {
  switch (a) {
    case device_access::none: return "none";
    case device_access::read: return "r";
    case device_access::write: return "w";
    case device_access::read_write: return "rw";
  }
  return "none";
}

result<std::vector<capability_setting>> parse_capabilities(std::string_view text) {
  std::vector<capability_setting> out;
  for (const auto& item : words(text)) {
    auto [name, state] = split_item(item);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.rfind("cap_", 0) == 0) name.erase(0, 4);
    // libcap reads a name up to its first character other than a letter or '_' and ignores
    // the rest, so "sys_time1" or "sys_time,mknod" would otherwise pass as sys_time.
    const bool plain = std::all_of(name.begin(), name.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    cap_value_t cap = 0;
    if (name.empty() || !plain || cap_from_name(("cap_" + name).c_str(), &cap) != 0)
      return detail::fail(errc::invalid_argument, "CAPABILITY: unknown capability \"{}\"", detail::excerpt(item));
    if (state != "on" && state != "off")
      return detail::fail(errc::invalid_argument, "CAPABILITY: \"{}\" is not NAME:on or NAME:off",
                          detail::excerpt(item));
    upsert(out, capability_setting{name, state == "on"},
           [](const auto& a, const auto& b) { return a.name == b.name; });
  }
  return out;
}

result<std::vector<devnode_grant>> parse_devnodes(std::string_view text) {
  std::vector<devnode_grant> out;
  for (const auto& item : words(text)) {
    auto [name, state] = split_item(item);
    BOOST_OUTCOME_TRY(check_devnode_name(name));
    auto access = parse_access(state);
    if (!access)
      return detail::fail(errc::invalid_argument, "DEVNODES: \"{}\" is not NAME:r, :w, :rw or :none",
                          detail::excerpt(item));
    upsert(out, devnode_grant{name, *access},
           [](const auto& a, const auto& b) { return a.name == b.name; });
  }
  return out;
}

result<ve_security> security_from_config(const ve_config& conf) {
  ve_security s;
  if (auto text = conf.get("CAPABILITY")) {
    auto caps = parse_capabilities(*text);
    if (!caps) return bad_key("CAPABILITY", caps.error());
    s.capabilities = std::move(*caps);
  }
  if (auto text = conf.get("DEVNODES")) {
    auto nodes = parse_devnodes(*text);
    if (!nodes) return bad_key("DEVNODES", nodes.error());
    std::erase_if(*nodes, [](const devnode_grant& g) { return g.access == device_access::none; });
    s.devnodes = std::move(*nodes);
  }
  if (auto text = conf.get("SECCOMP_PROFILE")) {
    if (!text->empty() && *text != "default" && *text != "unconfined" && text->front() != '/')
      return detail::fail(errc::bad_config,
                          "CTID.conf: SECCOMP_PROFILE: \"{}\" is not default, unconfined or an "
                          "absolute path",
                          detail::excerpt(*text));
    if (*text != "default") s.seccomp_profile = *text;
  }
  if (auto text = conf.get("NO_NEW_PRIVS")) {
    if (*text != "yes" && *text != "no")
      return detail::fail(errc::bad_config, "CTID.conf: NO_NEW_PRIVS: \"{}\" is not yes or no",
                          detail::excerpt(*text));
    s.no_new_privs = *text == "yes";
  }
  return s;
}

result<void> security_to_config(const ve_security& s, ve_config& conf) {
  auto set_or_erase = [&](std::string_view key, const std::string& value) -> result<void> {
    if (value.empty()) {
      conf.erase(key);
      return success();
    }
    return conf.set(key, value);
  };
  std::string caps, nodes;
  for (const auto& c : s.capabilities) caps += (caps.empty() ? "" : " ") + c.name + (c.on ? ":on" : ":off");
  for (const auto& d : s.devnodes) {
    if (d.access != device_access::none)
      nodes += (nodes.empty() ? "" : " ") + d.name + ":" + to_string(d.access);
  }
  BOOST_OUTCOME_TRY(set_or_erase("CAPABILITY", caps));
  BOOST_OUTCOME_TRY(set_or_erase("DEVNODES", nodes));
  BOOST_OUTCOME_TRY(set_or_erase("SECCOMP_PROFILE", s.seccomp_profile));
  return set_or_erase("NO_NEW_PRIVS", s.no_new_privs ? "yes" : "");
}

result<ve_security> with_changes(ve_security s, const security_changes& changes) {
  // Everything is checked before anything changes, with the refusals a CTID.conf edit gets.
  std::vector<capability_setting> caps;
  for (const auto& c : changes.capabilities) {
    bool one_word = !c.name.empty() && std::none_of(c.name.begin(), c.name.end(),
                                                    [](unsigned char ch) { return std::isspace(ch); });
    auto parsed = parse_capabilities(c.name + (c.on ? ":on" : ":off"));
    if (!one_word || !parsed || parsed->size() != 1)
      return detail::fail(errc::invalid_argument, "CAPABILITY: unknown capability \"{}\"", detail::excerpt(c.name));
    caps.push_back(parsed->front());  // normalized: "CAP_NET_ADMIN" → "net_admin"
  }
  for (const auto& d : changes.devnodes) {
    BOOST_OUTCOME_TRY(check_devnode_name(d.name));
  }
  if (changes.seccomp_profile) {
    ve_config probe;
    BOOST_OUTCOME_TRY(probe.set("SECCOMP_PROFILE", *changes.seccomp_profile));
    BOOST_OUTCOME_TRY(security_from_config(probe));
  }

  for (const auto& c : caps)
    upsert(s.capabilities, c, [](const auto& a, const auto& b) { return a.name == b.name; });
  for (const auto& d : changes.devnodes) {
    std::erase_if(s.devnodes, [&](const devnode_grant& g) { return g.name == d.name; });
    if (d.access != device_access::none) s.devnodes.push_back(d);
  }
  if (changes.seccomp_profile)
    s.seccomp_profile = *changes.seccomp_profile == "default" ? "" : *changes.seccomp_profile;
  if (changes.no_new_privs) s.no_new_privs = *changes.no_new_privs;
  return s;
}

}  // namespace ovz::inline v0
