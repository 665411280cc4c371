// Several kinds of settings as one change with one save (ovzctl set with several options).

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/etc_files.hpp"
#include "model/hostname.hpp"
#include "ve/change.hpp"
#include "ve/ve_op.hpp"

#include <functional>
#include <vector>

namespace ovz::inline v0 {
namespace {

bool empty(const ve_params& p) {
  const auto& c = p.cpu;
  return p.ubc.empty() && !c.cpuunits && !c.cpulimit && !c.cpus && !c.cpumask;
}

bool empty(const disk_params& d) { return d == disk_params{}; }

bool empty(const security_changes& s) {
  return s.capabilities.empty() && s.devnodes.empty() && !s.seccomp_profile && !s.no_new_privs;
}

}  // namespace

result<void> ve::apply(const ve_changes& changes, bool save) {
  const auto ctx = fmt::format("VE {}", id_.value());
  if (changes.hostname) {
    BOOST_OUTCOME_TRY(detail::check_hostname(*changes.hostname));
  }
  if (auto ok = detail::check_network_changes(changes.network); !ok)
    return detail::with_context(ok.error(), ctx);
  if (changes.nameservers) {
    if (auto ok = detail::check_nameservers(*changes.nameservers); !ok)
      return detail::with_context(ok.error(), ctx);
  }
  if (changes.searchdomains) {
    if (auto ok = detail::check_searchdomains(*changes.searchdomains); !ok)
      return detail::with_context(ok.error(), ctx);
  }
  auto begun = detail::ve_op::begin(*this, {.lock = true, .config = true, .live = true});
  if (!begun) return begun.error();
  detail::ve_op& op = *begun;
  detail::change_site site{root_, op.layout, op.host(), op.live.init_pid, op.conf, save};

  // The parts that can still be refused go first, then the hostname and the resolver (checked
  // above). The network goes last: a bridged device it deleted comes back without what the VE
  // had set on it, so no other part should come after it and fail.
  std::vector<std::function<result<detail::undo_step>()>> parts;
  if (!empty(changes.params))
    parts.emplace_back([&] { return detail::change_params(site, changes.params); });
  if (!empty(changes.security))
    parts.emplace_back([&] { return detail::change_security(site, changes.security); });
  if (changes.hostname)
    parts.emplace_back([&] { return detail::change_hostname(site, *changes.hostname); });
  if (changes.nameservers || changes.searchdomains) {
    parts.emplace_back([&] {
      return detail::change_resolver(site, changes.nameservers, changes.searchdomains);
    });
  }
  // A disk that grew stays grown when a later part fails: it only gained room.
  if (!empty(changes.params.disk))
    parts.emplace_back([&] { return detail::change_disk(site, changes.params.disk); });
  if (!changes.network.empty())
    parts.emplace_back([&] { return detail::change_network(site, changes.network); });
  // Nothing of these is live: without a save they would be dropped.
  auto conf_only = [&](const char* name, const char* key, const std::string& value) -> result<void> {
    if (!site.writes_conf()) {
      return op.in_context(detail::fail(errc::invalid_argument,
                                        "{} is kept in CTID.conf only: save it", name));
    }
    return op.conf.set(key, value);
  };
  if (changes.stop_timeout) {
    BOOST_OUTCOME_TRY(conf_only("stop_timeout", "STOP_TIMEOUT",
                                std::to_string(changes.stop_timeout->count())));
  }
  if (changes.onboot) {
    BOOST_OUTCOME_TRY(conf_only("onboot", "ONBOOT", *changes.onboot ? "yes" : "no"));
  }

  std::vector<detail::undo_step> done;
  auto roll_back = [&](const error& e) -> result<void> {
    for (auto it = done.rbegin(); it != done.rend(); ++it)
      if (*it) (*it)();
    return op.in_context(e);
  };
  for (auto& part : parts) {
    auto made = part();
    if (!made) return roll_back(made.error());
    done.push_back(std::move(*made));
  }
  if (site.writes_conf()) {
    if (auto ok = op.conf.save(op.layout.conf); !ok) return roll_back(ok.error());
  }
  return success();
}

}  // namespace ovz::inline v0
