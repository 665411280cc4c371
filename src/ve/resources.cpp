// A VE's resource settings and beancounters.

#include <ovz/state_root.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/proc_usage.hpp"
#include "model/layout.hpp"
#include "ve/change.hpp"
#include "ve/limits.hpp"
#include "ve/live_state.hpp"
#include "ve/ubc_measure.hpp"
#include "ve/ve_list.hpp"
#include "ve/ve_op.hpp"

#include <unistd.h>

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
    auto next = limits_for(merged(current, changes), fields);
    auto previous = limits_for(current, fields);
    BOOST_OUTCOME_TRY(opened, site.host.cg().open(site.layout.cgroup));
    auto held = std::make_shared<ve_cgroup>(std::move(opened));  // the undo is copyable
    undo = [&resources = site.host.cg().resources(), held, cgroup = site.layout.cgroup, previous] {
      logged(resources.apply(*held, previous), "rollback of the limits of cgroup " + cgroup);
    };
    if (auto ok = site.host.cg().resources().apply(*held, next); !ok) {
      undo();  // what was written before the refusal
      return ok.error();
    }
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

namespace {

// One VE's snapshot from a single look at its cgroup; nullopt for a stopped VE when only
// running ones are wanted.
result<std::optional<ubc_snapshot>> snapshot(const ve& v, bool only_running) {
  return detail::ve_op::run(v, {.config = true, .live = true},
                            [&](detail::ve_op& op) -> result<std::optional<ubc_snapshot>> {
    BOOST_OUTCOME_TRY(settings, params_from_config(op.conf));
    const auto& live = op.live;
    const bool running = live.init_pid != 0;
    if (!running && only_running) return std::optional<ubc_snapshot>{};
    detail::ubc_readings in;
    // The limits the kernel holds: a live change not saved is in force but not in CTID.conf.
    detail::cgroup_limits kernel;
    kernel.fields = 0;
    if (running) {
      auto& cg = op.cg();
      auto open = cg.open(op.layout.cgroup);
      if (!open && open.error().sys_errno() != ENOENT)  // ENOENT: it stopped meanwhile
        return open.error();
      if (open) {
        BOOST_OUTCOME_TRY(u, cg.resources().usage(*open));
        BOOST_OUTCOME_TRY(k, cg.resources().limits(*open));
        in.cgroup = u;
        kernel = k;
      }
      in.proc = detail::measure_processes(live.pids, live.init_pid);
      in.running = true;
    }
    detail::cgroup_limits none;
    none.fields = 0;
    const auto kernel_page = static_cast<std::uint64_t>(::getpagesize());
    ubc_snapshot snap{v.id(), {}};
    for (ubc_resource r : all_ubc_resources()) {
      const auto m = detail::measure(r, in);
      const auto value = detail::reported_value(r, settings, m.enforced ? kernel : none, kernel_page);
      snap.stats.push_back(ubc_stat{.resource = r, .held = m.held, .maxheld = m.peak,
                                    .barrier = value.barrier, .limit = value.limit,
                                    .failcnt = m.failcnt, .measured = m.measured,
                                    .enforced = m.enforced});
    }
    return std::optional<ubc_snapshot>(std::move(snap));
  });
}

}  // namespace

result<ubc_snapshot> ve::beancounters() const {
  BOOST_OUTCOME_TRY(snap, snapshot(*this, false));
  return std::move(*snap);
}

result<std::vector<ubc_snapshot>> all_beancounters(const std::filesystem::path& state_root) {
  std::vector<ubc_snapshot> snaps;
  BOOST_OUTCOME_TRY(detail::for_each_ve(resolve_state_root(state_root), [&](const ve& v) -> result<void> {
    BOOST_OUTCOME_TRY(snap, snapshot(v, true));
    if (snap) snaps.push_back(std::move(*snap));
    return success();
  }));
  return snaps;
}

}  // namespace ovz::inline v0
