// A VE's resource settings and beancounters.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/cgroup_manager.hpp"
#include "kernel/limits_mark.hpp"
#include "log.hpp"
#include "ve/change.hpp"
#include "ve/limits.hpp"
#include "ve/plan.hpp"
#include "ve/proc_views.hpp"
#include "ve/ve_meter.hpp"
#include "ve/ve_op.hpp"


#include <memory>

namespace ovz::inline v0 {
namespace {

result<void> check_changes(const ve_params& changes) {
  for (const auto& [r, v] : changes.ubc) {
    if (v.limit < v.barrier)
      return detail::fail(errc::invalid_argument, "{}: limit {} is below barrier {}", to_string(r),
                          v.limit, v.barrier);
  }
  BOOST_OUTCOME_TRY(check_cpu_params(changes.cpu));
  return check_bootable(changes);
}

}  // namespace

result<ve_params> ve::params() const {
  BOOST_OUTCOME_TRY(conf, config());
  return params_from_config(conf);
}

}  // namespace ovz::inline v0

namespace ovz::detail {

result<undo_step> change_params(change_site& site, const ve_params& changes) {
  BOOST_OUTCOME_TRY(check_changes(changes));
  BOOST_OUTCOME_TRY(current, params_from_config(site.conf));
  undo_step undo;
  if (site.init_pid) {
    const unsigned fields = fields_for(changes);
    auto next = limits_for(merged(current, changes), fields, site.layout.id.value());
    auto previous = limits_for(current, fields, site.layout.id.value());
    BOOST_OUTCOME_TRY(opened, site.host.cg().open(site.layout.cgroup));
    auto held = std::make_shared<ve_cgroup>(std::move(opened));  // the undo is copyable
    undo = [&resources = site.host.cg().resources(), held, cgroup = site.layout.cgroup, previous] {
      logged(write_limits(resources, *held, previous),
             "rollback of the limits of cgroup " + cgroup);
    };
    // A change readers are not told of is undone: they would go on showing the limits before.
    auto applied = write_limits(site.host.cg().resources(), *held, next);
    if (!applied) {
      undo();  // what was written before the refusal
      return applied.error();
    }
    // What the VE's /proc shows of its CPUs and beancounters, where the module renders it.
    logged(update_module_view(site.init_pid, module_view(site.layout.id, merged(current, changes))),
           fmt::format("VE {}: its /proc views keep the settings before this change",
                       site.layout.id.value()));
  }
  if (site.writes_conf()) {
    ve_params own = changes;
    own.disk = {};  // change_disk's part
    if (auto ok = params_to_config(own, site.conf); !ok) {
      if (undo) undo();
      return ok.error();
    }
  }
  return undo;
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::set(const ve_params& changes, bool save) { return apply({.params = changes}, save); }

result<ubc_snapshot> ve::beancounters() const {
  detail::ve_meter meter(*this);
  BOOST_OUTCOME_TRY(snap, meter.read(false, detail::held_locks(), nullptr));
  return std::move(*snap);
}

result<std::chrono::microseconds> ve::cpu_time() const {
  return detail::ve_op::run(*this, {.config = true},
                            [](detail::ve_op& op) -> result<std::chrono::microseconds> {
    BOOST_OUTCOME_TRY(cgroups, detail::host_cgroups());
    BOOST_OUTCOME_TRY(us, cgroups->cpu_time_us(op.layout.cgroup));
    return std::chrono::microseconds(us);
  });
}


}  // namespace ovz::inline v0
