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
#include "ve/ve_list.hpp"
#include "ve/ve_op.hpp"

#include <memory>

namespace ovz::inline v0 {
namespace {

constexpr std::uint64_t page_size = 4096;

result<void> check_changes(const ve_params& changes) {
  for (const auto& [r, v] : changes.ubc) {
    if (v.limit < v.barrier)
      return detail::fail(errc::invalid_argument, "{}: limit {} is below barrier {}", to_string(r),
                          v.limit, v.barrier);
  }
  BOOST_OUTCOME_TRY(check_cpu_params(changes.cpu));
  return check_bootable(changes);
}

struct measured {
  std::uint64_t held = 0;
  std::uint64_t peak = 0;
  std::uint64_t failcnt = 0;
  bool is_measured = false;
  bool enforced = false;
};

measured from_counter(const detail::cgroup_counter& c, std::uint64_t unit) {
  return {c.held / unit, c.peak / unit, c.failcnt, c.measured, c.enforced};
}

measured from_proc(std::uint64_t value, bool running) { return {value, value, 0, running, false}; }

// What the kernel and /proc say of one resource. Resources nothing on this host counts stay
// unmeasured and unenforced: a zero there is "unknown", never a made-up number.
measured measure(ubc_resource r, const detail::cgroup_usage& u, const detail::proc_usage& p,
                 bool running) {
  switch (r) {
    case ubc_resource::numproc: return from_counter(u.pids, 1);
    case ubc_resource::physpages: return from_counter(u.memory, page_size);
    case ubc_resource::swappages: return from_counter(u.swap, page_size);
    case ubc_resource::kmemsize: return from_counter(u.kmem, 1);
    case ubc_resource::shmpages: return from_counter(u.shmem, page_size);
    case ubc_resource::oomguarpages: {
      // Held: what the VE has in RAM and swap, the memory its guarantee protects.
      auto m = from_counter(u.memory, page_size);
      m.held += u.swap.held / page_size;
      m.peak = std::max(m.peak, m.held);
      m.failcnt = 0;
      return m;
    }
    case ubc_resource::vmguarpages: {
      auto m = from_proc(p.privvm_pages, running);
      m.enforced = u.memory.enforced;
      return m;
    }
    case ubc_resource::lockedpages: return from_proc(p.locked_pages, running);
    case ubc_resource::privvmpages: return from_proc(p.privvm_pages, running);
    case ubc_resource::numfile: return from_proc(p.files, running);
    case ubc_resource::numtcpsock: return from_proc(p.tcp_sockets, running);
    case ubc_resource::numothersock: return from_proc(p.other_sockets, running);
    case ubc_resource::numpty: {
      // The VE's devpts hands out no more than NUMPTY (its max=).
      auto m = from_proc(p.ptys, running);
      m.enforced = running;
      return m;
    }
    case ubc_resource::numflock: return from_proc(p.flocks, running);
    default: return {};
  }
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
    if (auto ok = params_to_config(changes, site.conf); !ok) {
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
    detail::cgroup_usage usage;
    detail::proc_usage procs;
    if (running) {
      BOOST_OUTCOME_TRY(u, op.cg().stats(op.layout.cgroup));
      usage = u;
      procs = detail::measure_processes(live.pids, live.init_pid);
    }
    ubc_snapshot snap{v.id(), {}};
    for (ubc_resource r : all_ubc_resources()) {
      ubc_stat s;
      s.resource = r;
      for (const auto& [res, value] : settings.ubc) {
        if (res == r) {
          s.barrier = value.barrier;
          s.limit = value.limit;
        }
      }
      auto m = measure(r, usage, procs, running);
      s.held = m.held;
      s.maxheld = m.peak;
      s.failcnt = m.failcnt;
      s.measured = m.is_measured;
      s.enforced = m.enforced;
      snap.stats.push_back(s);
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
