// The host-facing half of a plan: what only the host can tell (the template's directory, the
// host's device nodes, the bounds of RLIMIT_NOFILE, a seccomp profile file, the cgroup
// hierarchies, the host's resolver for a VE that inherits it).
#include "ve/plan.hpp"

#include <ovz/security.hpp>
#include <ovz/template.hpp>

#include "ve/monitor.hpp"
#include "ve/proc_views.hpp"

namespace ovz::detail {

result<plan_inputs> gather_plan_inputs(const ve_config& conf, const ve_paths& l,
                                       const std::filesystem::path& state_root) {
  plan_inputs in;
  in.storage = storage_kind_of(l);
  BOOST_OUTCOME_TRY(tmpl, template_store(state_root).find(
                              conf.get("OSTEMPLATE").value_or(builtin_template)));
  in.template_root = tmpl.path;
  BOOST_OUTCOME_TRY(security, security_from_config(conf));
  BOOST_OUTCOME_TRY(devnodes, resolve_devnodes(security.devnodes));
  in.devnodes = std::move(devnodes);
  BOOST_OUTCOME_TRY(confine, gather_confine_inputs(security));
  in.confine = std::move(confine);
  BOOST_OUTCOME_TRY(monitor, find_monitor());
  in.monitor = std::move(monitor);
  in.cgroups = ve_cgroup_hierarchies();
  BOOST_OUTCOME_TRY(views, proc_views_source_for(l));
  in.proc_views = std::move(views);
  if (inherits_resolver(conf)) {
    BOOST_OUTCOME_TRY(resolv, host_resolv_conf());
    in.host_resolv = std::move(resolv);
  }
  return in;
}

}  // namespace ovz::detail
