#include "ve/limits.hpp"

#include "model/cpu_math.hpp"
#include "model/ubc_table.hpp"

#include <algorithm>

namespace ovz::detail {
namespace {

const ubc_value* find(const ve_params& p, ubc_resource r) {
  // The last setting of a resource wins, as with repeated vzctl options.
  const ubc_value* found = nullptr;
  for (const auto& [res, value] : p.ubc)
    if (res == r) found = &value;
  return found;
}

// Where a cgroup limit of the table lives in cgroup_limits, and which field of apply() writes
// it. A limit is either optional (nullopt: none) or an amount (0: none, the guarantees).
struct cgroup_slot {
  unsigned field = 0;  // 0: not a cgroup limit
  std::optional<std::uint64_t> cgroup_limits::*maybe = nullptr;
  std::uint64_t cgroup_limits::*amount = nullptr;
  bool bytes = true;  // else a count
};

cgroup_slot slot_of(ubc_limit l) {
  switch (l) {
    case ubc_limit::pids_max: return {field_pids, &cgroup_limits::pids_max, nullptr, false};
    case ubc_limit::memory_max: return {field_memory, &cgroup_limits::memory_max};
    case ubc_limit::swap_max: return {field_memory, &cgroup_limits::swap_max};
    case ubc_limit::kmem_max: return {field_memory, &cgroup_limits::kmem_max};
    case ubc_limit::memory_min: return {field_guarantee, nullptr, &cgroup_limits::memory_min};
    case ubc_limit::memory_low: return {field_guarantee, nullptr, &cgroup_limits::memory_low};
    case ubc_limit::none:
    case ubc_limit::devpts_max:
    case ubc_limit::nofile: return {};
  }
  return {};
}

std::optional<std::uint64_t> get(const cgroup_limits& l, const cgroup_slot& s) {
  if (s.maybe) return l.*s.maybe;
  if (l.*s.amount == 0) return std::nullopt;
  return l.*s.amount;
}

void put(cgroup_limits& l, const cgroup_slot& s, std::optional<std::uint64_t> value) {
  if (s.maybe)
    l.*s.maybe = value;
  else
    l.*s.amount = value.value_or(0);  // an unlimited guarantee would pin everything: none
}

std::uint64_t side_of(const ubc_row& row, const ubc_value& v) {
  return row.side == ubc_side::barrier ? v.barrier : v.limit;
}

}  // namespace

cgroup_limits limits_for(const ve_params& p, unsigned fields, std::uint64_t cpuset_key) {
  cgroup_limits l;
  l.fields = fields;
  for (const auto& row : ubc_rows) {
    const auto slot = slot_of(row.limit);
    if (!slot.field) continue;
    const ubc_value* v = find(p, row.resource);
    put(l, slot, v ? to_kernel_unit(row.resource, side_of(row, *v)) : std::nullopt);
  }
  l.cpu_shares = shares_from_cpuunits(p.cpu.cpuunits.value_or(cpuunits_default));
  l.cpu_quota_us = quota_us(p.cpu.cpulimit, p.cpu.cpus, l.cpu_period_us);
  if (p.cpu.cpumask) {
    if (*p.cpu.cpumask != "all") l.cpuset_cpus = *p.cpu.cpumask;
  } else {
    // Software sizes itself by its affinity (nproc, sched_getaffinity): a VE told it has N
    // CPUs runs on N of them, as OpenVZ's VEs saw N. VEs of consecutive CTIDs take turns
    // over the host's CPUs. A cpumask, even "all", is the user's choice and wins.
    l.cpuset_count = p.cpu.cpus.value_or(0);
    l.cpuset_start = cpuset_key * l.cpuset_count;
  }
  return l;
}

unsigned fields_for(const ve_params& changes) {
  unsigned f = 0;
  // Resources no cgroup enforces are kept in CTID.conf only.
  for (const auto& [r, value] : changes.ubc) f |= slot_of(row_of(r).limit).field;
  if (changes.cpu.cpuunits) f |= field_cpu_shares;
  if (changes.cpu.cpulimit || changes.cpu.cpus) f |= field_cpu_quota;
  if (changes.cpu.cpumask || changes.cpu.cpus) f |= field_cpuset;
  return f;
}

ubc_value reported_value(ubc_resource r, const ve_params& settings,
                         const cgroup_limits& configured_limits, const cgroup_limits& kernel,
                         std::uint64_t kernel_page) {
  const ubc_row& row = row_of(r);
  const ubc_value* saved = find(settings, r);
  ubc_value v = saved ? *saved : ubc_value{};
  const auto slot = slot_of(row.limit);
  if (!slot.field || !(kernel.fields & slot.field)) return v;
  const auto now = get(kernel, slot);
  const auto configured = get(configured_limits, slot);
  // The kernel keeps byte limits in whole pages of its own: the configured value rounded
  // down to one is still the configured value.
  if (now == configured || (slot.bytes && now && configured && *now <= *configured &&
                            *configured - *now < kernel_page))
    return v;
  // A change made live and not saved: the kernel's number on its side, the other side kept
  // from CTID.conf as far as a barrier may not exceed its limit.
  const std::uint64_t live = from_kernel_unit(r, now);
  if (row.side == ubc_side::limit) {
    v.limit = live;
    v.barrier = std::min(v.barrier, live);
  } else {
    v.barrier = now ? live : 0;
    v.limit = std::max(v.limit, v.barrier);
  }
  return v;
}

resource_limit nofile_limit(const ve_params& p) {
  // systemd's default for services: select() users keep working, the rest may raise it.
  constexpr resource_limit fixed{1024, 524288};
  const ubc_value* v = find(p, ubc_resource::numfile);
  if (!v || v->limit == ubc_unlimited) return fixed;
  return {v->barrier == ubc_unlimited ? v->limit : v->barrier, v->limit};
}

std::optional<std::uint64_t> pty_limit(const ve_params& p) {
  const ubc_value* v = find(p, ubc_resource::numpty);
  if (!v || v->limit == ubc_unlimited) return std::nullopt;
  // One more for /dev/console, a terminal of the same devpts that numpty does not count (as
  // OpenVZ's console was not one of the VE's ptys).
  return v->limit + 1;
}

ve_params merged(ve_params base, const ve_params& changes) {
  for (const auto& change : changes.ubc) {
    auto same = [&](const auto& e) { return e.first == change.first; };
    base.ubc.erase(std::remove_if(base.ubc.begin(), base.ubc.end(), same), base.ubc.end());
    base.ubc.push_back(change);
  }
  const auto& c = changes.cpu;
  if (c.cpuunits) base.cpu.cpuunits = c.cpuunits;
  if (c.cpulimit) base.cpu.cpulimit = c.cpulimit;
  if (c.cpus) base.cpu.cpus = c.cpus;
  if (c.cpumask) base.cpu.cpumask = c.cpumask;
  return base;
}

}  // namespace ovz::detail
