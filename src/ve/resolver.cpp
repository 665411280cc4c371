// NAMESERVER and SEARCHDOMAIN: CTID.conf's, and the running VE's /etc/resolv.conf.
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "model/etc_files.hpp"
#include "model/network.hpp"
#include "ve/change.hpp"
#include "ve/etc_files.hpp"
#include "ve/ve_tree.hpp"

#include <fmt/ranges.h>

namespace ovz::detail {
namespace {

result<void> set_list(ve_config& conf, const char* key,
                      const std::optional<std::vector<std::string>>& values) {
  if (!values) return success();
  if (values->empty()) {
    conf.erase(key);
    return success();
  }
  return conf.set(key, fmt::format("{}", fmt::join(*values, " ")));
}

}  // namespace

result<undo_step> change_resolver(change_site& site,
                                  const std::optional<std::vector<std::string>>& nameservers,
                                  const std::optional<std::vector<std::string>>& searchdomains) {
  if (nameservers) {
    BOOST_OUTCOME_TRY(check_nameservers(*nameservers));
  }
  if (searchdomains) {
    BOOST_OUTCOME_TRY(check_searchdomains(*searchdomains));
  }
  // What the VE is to have: the new lists over CTID.conf's.
  ve_config next = site.conf;
  BOOST_OUTCOME_TRY(set_list(next, "NAMESERVER", nameservers));
  BOOST_OUTCOME_TRY(set_list(next, "SEARCHDOMAIN", searchdomains));
  undo_step undo;
  if (site.init_pid) {
    std::string host_resolv;
    if (inherits_resolver(next)) {
      BOOST_OUTCOME_TRY(text, host_resolv_conf());
      host_resolv = std::move(text);
    }
    BOOST_OUTCOME_TRY(net, network_from_config(next));
    BOOST_OUTCOME_TRY(settings, etc_settings_for(next, {}, net, host_resolv));
    BOOST_OUTCOME_TRY(tree, running_tree(site.init_pid, site.conf));
    BOOST_OUTCOME_TRY(files, write_etc_files(tree, settings, etc_resolver));
    undo = [pid = site.init_pid, conf = site.conf, files] {
      auto tree = running_tree(pid, conf);
      if (!tree) {
        logged(result<void>(tree.error()), "rollback of /etc/resolv.conf");
        return;
      }
      logged(restore_etc_files(*tree, files), "rollback of /etc/resolv.conf");
    };
  }
  if (site.writes_conf()) site.conf = std::move(next);
  return undo;
}

}  // namespace ovz::detail
