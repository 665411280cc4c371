#include "ve/etc_files.hpp"

#include "fail.hpp"
#include "log.hpp"
#include "kernel/files.hpp"
#include "kernel/tree_files.hpp"
#include "model/etc_files.hpp"
#include "model/text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ovz::detail {
namespace {

std::optional<std::vector<std::string>> list_of(const ve_config& conf, const char* key) {
  auto v = conf.get(key);
  if (!v) return std::nullopt;
  return words_of(*v);
}

}  // namespace

bool inherits_resolver(const ve_config& conf) {
  for (const char* key : {"NAMESERVER", "SEARCHDOMAIN"}) {
    auto l = list_of(conf, key);
    if (l && l->size() == 1 && l->front() == inherit) return true;
  }
  return false;
}

result<etc_settings> etc_settings_for(const ve_config& conf, const std::string& hostname,
                                      const ve_network& net, std::string_view host_resolv) {
  etc_settings s{.hostname = hostname};
  s.hosts_ip = net.ip_addresses.empty() ? std::string(hosts_loopback)
                                        : net.ip_addresses.front().address();
  // A list checked, and "inherit" replaced by what the host's resolv.conf holds.
  auto resolver_list = [&](const char* key, auto check, auto from_host)
      -> result<std::optional<std::vector<std::string>>> {
    auto l = list_of(conf, key);
    if (!l) return l;
    if (auto ok = check(*l); !ok)
      return fail(errc::bad_config, "{} in CTID.conf: {}", key, ok.error().message());
    if (l->size() == 1 && l->front() == inherit) return from_host(host_resolv);
    return l;
  };
  BOOST_OUTCOME_TRY(servers, resolver_list("NAMESERVER", check_nameservers, resolv_nameservers));
  BOOST_OUTCOME_TRY(domains, resolver_list("SEARCHDOMAIN", check_searchdomains, resolv_search));
  s.nameservers = std::move(servers);
  s.searchdomains = std::move(domains);
  return s;
}

result<std::string> host_resolv_conf() {
  auto text = read_file("/etc/resolv.conf");
  if (!text && text.error().sys_errno() != ENOENT) return text.error();
  std::string own = text ? *text : std::string();
  if (!resolv_nameservers(own).empty()) return own;
  auto upstream = read_file("/run/systemd/resolve/resolv.conf");
  return upstream ? *upstream : own;
}

result<etc_snapshot> write_etc_files(const ve_tree& tree, const etc_settings& s, unsigned parts) {
  etc_snapshot before;
  // A tree without /etc (a VE of one static program) has nothing to configure.
  auto etc = open_tree_dir(tree.root.get(), "etc");
  if (!etc) {
    if (etc.error().sys_errno() == ENOENT || etc.error().sys_errno() == ENOTDIR) return before;
    return etc.error();
  }
  auto put = [&](const char* name, auto edit) -> result<void> {
    const std::string path = std::string("etc/") + name;
    BOOST_OUTCOME_TRY(old, read_in_tree(tree.root.get(), path));
    std::string next = edit(old.value_or(""));
    if (old && *old == next) return success();
    BOOST_OUTCOME_TRY(replace_in_tree(tree.root.get(), "etc", name, next));
    before.files.emplace_back(name, std::move(old));
    return success();
  };
  auto written = [&]() -> result<void> {
    if (parts & etc_names) {
      BOOST_OUTCOME_TRY(put("hostname", [&](const std::string&) { return hostname_file(s.hostname); }));
      BOOST_OUTCOME_TRY(put("hosts", [&](const std::string& old) {
        return hosts_with_hostname(old, s.hostname, s.hosts_ip);
      }));
    }
    if ((parts & etc_resolver) && (s.nameservers || s.searchdomains)) {
      BOOST_OUTCOME_TRY(put("resolv.conf", [&](const std::string& old) {
        return resolv_conf_with(old, s.nameservers, s.searchdomains);
      }));
    }
    return success();
  }();
  if (!written) {
    logged(restore_etc_files(tree, before), "putting back the VE's /etc files after a failed write");
    return written.error();
  }
  return before;
}

result<void> restore_etc_files(const ve_tree& tree, const etc_snapshot& before) {
  for (auto it = before.files.rbegin(); it != before.files.rend(); ++it) {
    const auto& [name, old] = *it;
    if (old) {
      BOOST_OUTCOME_TRY(replace_in_tree(tree.root.get(), "etc", name, *old));
      continue;
    }
    BOOST_OUTCOME_TRY(etc, open_tree_dir(tree.root.get(), "etc"));
    if (::unlinkat(etc.get(), name.c_str(), 0) != 0 && errno != ENOENT)
      return sys_fail(errno, "etc/{}: unlink", name);
  }
  return success();
}

}  // namespace ovz::detail
