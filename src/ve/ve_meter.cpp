#include "ve/ve_meter.hpp"

#include "fail.hpp"
#include "kernel/limits_mark.hpp"
#include "kernel/proc_stat.hpp"
#include "ve/limits.hpp"
#include "ve/live_state.hpp"
#include "ve/locate.hpp"
#include "ve/ubc_measure.hpp"
#include "ve/ve_op.hpp"

#include <unistd.h>

#include <algorithm>

namespace ovz::detail {
namespace {

const std::string& name_of(const module_counters& c) { return c.name; }
const std::string& name_of(const std::string& name) { return name; }

bool same_version(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

}  // namespace

// CTID.conf is replaced by a rename when saved (a new inode) or written in place by hand (a
// new mtime and ctime): either shows in its stat.
result<void> ve_meter::load_settings() {
  struct stat st {};
  if (::stat(layout_->conf.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return fail(errc::not_found, "VE {} does not exist (no {})", v_.id().value(),
                  layout_->conf.string());
    return sys_fail(errno, "stat {}", layout_->conf.string());
  }
  if (conf_stat_.st_ino && same_version(st, conf_stat_)) return success();
  BOOST_OUTCOME_TRY(conf, v_.config());
  BOOST_OUTCOME_TRY(settings, params_from_config(conf));
  settings_ = std::move(settings);
  configured_ = limits_for(settings_);
  conf_stat_ = st;
  return success();
}

// The VE's processes, from its cgroup held open while the same init runs in it; the VE is
// looked up afresh (its cgroup, its init) when it was not running, or it stopped since (its
// cgroup removed: an empty list), or restarted (another init).
result<std::vector<pid_t>> ve_meter::running_processes() {
  auto& cg = host_->services().cg();
  if (cgroup_) {
    BOOST_OUTCOME_TRY(pids, cg.procs(*cgroup_));
    if (std::find(pids.begin(), pids.end(), init_) != pids.end()) return pids;
    forget_cgroup();
  }
  BOOST_OUTCOME_TRY(live, probe(cg, *layout_));
  if (!live.init_pid) return std::vector<pid_t>{};
  auto open = cg.open(layout_->cgroup);
  if (!open && open.error().sys_errno() == ENOENT) return std::vector<pid_t>{};  // it stopped
  if (!open) return open.error();
  for (auto& h : open->dirs) h.dir.hold_files();
  cgroup_ = std::move(*open);
  init_ = live.init_pid;
  return std::move(live.pids);
}

// A new cgroup or init has its own limits: they are read back afresh.
void ve_meter::forget_cgroup() {
  cgroup_.reset();
  init_ = 0;
  init_start_.reset();
  limits_.reset();
}

// Its name in the module is its CTID, which a VE of another state root may share; the start
// time of the init that registered it tells them apart (and a record of an init gone by from
// the present one). No record: the VE started before the module was loaded.
const memcg_counters* ve_meter::record_in(const module_snapshot& module) {
  if (!init_start_) {
    auto st = read_proc_stat(init_);
    if (!st) return nullptr;
    init_start_ = st->start_ticks;
  }
  static const auto ns_per_tick = 1'000'000'000ULL / static_cast<unsigned long long>(
                                                          ::sysconf(_SC_CLK_TCK));
  const auto [first, last] = std::equal_range(
      module.ves.begin(), module.ves.end(), std::to_string(v_.id().value()),
      [](const auto& a, const auto& b) { return name_of(a) < name_of(b); });
  for (auto r = first; r != last; ++r)
    if (r->start_boottime_ns / ns_per_tick == *init_start_) return &r->memcg;
  return nullptr;
}

result<std::optional<ubc_snapshot>> ve_meter::read(bool only_running,
                                                   const std::vector<held_lock>& locks,
                                                   const module_snapshot* module) {
  auto body = [&]() -> result<std::optional<ubc_snapshot>> {
    if (!layout_) {
      BOOST_OUTCOME_TRY(l, locate(v_.state_root(), v_.id()));
      layout_ = std::move(l);
    }
    if (!host_) {
      BOOST_OUTCOME_TRY(h, ve_op::host_of(v_));
      host_ = std::move(h);
    }
    BOOST_OUTCOME_TRY(load_settings());
    BOOST_OUTCOME_TRY(pids, running_processes());
    const bool running = !pids.empty() && init_;
    ubc_readings in;
    // The limits the kernel holds: a live change not saved is in force but not in CTID.conf.
    // Read back when the cgroup is new to this meter or they were written since.
    cgroup_limits kernel;
    kernel.fields = 0;
    if (running) {
      auto& resources = host_->services().cg().resources();
      auto u = resources.usage(*cgroup_, module ? record_in(*module) : nullptr);
      const auto mark = limits_mark(*cgroup_);  // before the limits: a write after shows next
      if (u && (!limits_ || !mark || *mark != limits_mark_)) {
        auto k = resources.limits(*cgroup_);
        if (k) {
          limits_ = *k;
          limits_mark_ = mark.value_or(0);
        } else {
          u = k.error();
        }
      }
      if (u) {
        in.cgroup = *u;
        kernel = *limits_;
        in.proc = proc_.measure(pids, init_, locks);
        in.running = true;
      } else if (u.error().sys_errno() != ENODEV) {
        return u.error();
      }
    }
    // ENODEV: it stopped after its processes were listed, and its cgroup went.
    if (!in.running && only_running) return std::optional<ubc_snapshot>{};
    cgroup_limits none;
    none.fields = 0;
    const auto kernel_page = static_cast<std::uint64_t>(::getpagesize());
    ubc_snapshot snap{v_.id(), {}};
    snap.stats.reserve(all_ubc_resources().size());
    for (ubc_resource r : all_ubc_resources()) {
      const auto m = measure(r, in);
      const auto value =
          reported_value(r, settings_, configured_, m.enforced ? kernel : none, kernel_page);
      snap.stats.push_back(ubc_stat{.resource = r, .held = m.held, .maxheld = m.peak,
                                    .barrier = value.barrier, .limit = value.limit,
                                    .failcnt = m.failcnt, .measured = m.measured,
                                    .enforced = m.enforced});
    }
    return std::optional<ubc_snapshot>(std::move(snap));
  };
  auto r = body();
  if (!r) {
    // What was held may be what failed (a cgroup removed under a read): start afresh.
    forget_cgroup();
    return in_context_of(fmt::format("VE {}", v_.id().value()), r.error());
  }
  return r;
}

}  // namespace ovz::detail
