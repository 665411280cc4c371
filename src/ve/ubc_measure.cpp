#include "ve/ubc_measure.hpp"

#include "model/ubc_table.hpp"

#include <algorithm>

namespace ovz::detail {
namespace {

cgroup_counter from_cgroup(ubc_counter c, const cgroup_usage& u) {
  switch (c) {
    case ubc_counter::pids: return u.pids;
    case ubc_counter::memory: return u.memory;
    case ubc_counter::swap: return u.swap;
    case ubc_counter::kmem: return u.kmem;
    case ubc_counter::shmem: return u.shmem;
    case ubc_counter::memory_and_swap: {
      // What the VE has in RAM and swap, the memory a guarantee protects. Refused allocations
      // are physpages' and swappages' failures, not this one's.
      cgroup_counter m = u.memory;
      m.held += u.swap.held;
      m.peak = std::max(m.peak, m.held);
      m.failcnt = 0;
      return m;
    }
    default: return {};
  }
}

cgroup_counter from_proc(ubc_counter c, const proc_usage& p, bool running) {
  auto scanned = [&](std::uint64_t value) { return cgroup_counter{value, value, 0, running, false}; };
  switch (c) {
    case ubc_counter::files: return scanned(p.files);
    case ubc_counter::tcp_sockets: return scanned(p.tcp_sockets);
    case ubc_counter::other_sockets: return scanned(p.other_sockets);
    case ubc_counter::locked: return scanned(p.locked_bytes);
    case ubc_counter::privvm: return scanned(p.privvm_bytes);
    case ubc_counter::ptys: return scanned(p.ptys);
    case ubc_counter::flocks: return scanned(p.flocks);
    default: return {};
  }
}

bool enforced(ubc_limit l, const ubc_readings& in) {
  switch (l) {
    case ubc_limit::pids_max: return in.cgroup.pids.enforced;
    case ubc_limit::memory_max:
    case ubc_limit::memory_min:
    case ubc_limit::memory_low: return in.cgroup.memory.enforced;
    case ubc_limit::swap_max: return in.cgroup.swap.enforced;
    case ubc_limit::kmem_max: return in.cgroup.kmem.enforced;
    case ubc_limit::devpts_max: return in.running;  // the VE's devpts hands out no more
    // RLIMIT_NOFILE bounds each process, not the VE's total that NUMFILE counts.
    case ubc_limit::nofile:
    case ubc_limit::none: return false;
  }
  return false;
}

}  // namespace

ubc_measured measure(ubc_resource r, const ubc_readings& in) {
  const ubc_row& row = row_of(r);
  cgroup_counter c;
  switch (row.source) {
    case ubc_source::none: break;
    case ubc_source::cgroup: c = from_cgroup(row.counter, in.cgroup); break;
    case ubc_source::proc: c = from_proc(row.counter, in.proc, in.running); break;
  }
  return {from_kernel_unit(r, c.held), from_kernel_unit(r, c.peak), c.failcnt, c.measured,
          enforced(row.limit, in)};
}

}  // namespace ovz::detail
