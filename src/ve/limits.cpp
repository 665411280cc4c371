#include "ve/limits.hpp"

#include "model/cpu_math.hpp"

#include <algorithm>

namespace ovz::detail {
namespace {

constexpr std::uint64_t page_size = 4096;

const ubc_value* find(const ve_params& p, ubc_resource r) {
  // The last setting of a resource wins, as with repeated vzctl options.
  const ubc_value* found = nullptr;
  for (const auto& [res, value] : p.ubc)
    if (res == r) found = &value;
  return found;
}

// A limit in bytes; unlimited (or anything too large to be a real size) means none.
std::optional<std::uint64_t> bytes(const ve_params& p, ubc_resource r, bool barrier = false) {
  const ubc_value* v = find(p, r);
  if (!v) return std::nullopt;
  std::uint64_t n = barrier ? v->barrier : v->limit;
  if (n == ubc_unlimited) return std::nullopt;
  if (!counts_pages(r)) return n;
  if (n > ubc_unlimited / page_size) return std::nullopt;
  return n * page_size;
}

}  // namespace

cgroup_limits limits_for(const ve_params& p, unsigned fields) {
  cgroup_limits l;
  l.fields = fields;
  // numproc's barrier and limit are one number in practice; the kernel has only a limit.
  if (const ubc_value* v = find(p, ubc_resource::numproc); v && v->limit != ubc_unlimited)
    l.pids_max = v->limit;
  l.memory_max = bytes(p, ubc_resource::physpages);
  l.swap_max = bytes(p, ubc_resource::swappages);
  l.kmem_max = bytes(p, ubc_resource::kmemsize);
  // Guarantees are barriers; an unlimited guarantee would pin everything, so it means none.
  l.memory_min = bytes(p, ubc_resource::oomguarpages, true).value_or(0);
  l.memory_low = bytes(p, ubc_resource::vmguarpages, true).value_or(0);
  l.cpu_shares = shares_from_cpuunits(p.cpu.cpuunits.value_or(cpuunits_default));
  l.cpu_quota_us = quota_us(p.cpu.cpulimit, p.cpu.cpus, l.cpu_period_us);
  if (p.cpu.cpumask && *p.cpu.cpumask != "all") l.cpuset_cpus = *p.cpu.cpumask;
  return l;
}

unsigned fields_for(const ve_params& changes) {
  unsigned f = 0;
  for (const auto& [r, value] : changes.ubc) {
    switch (r) {
      case ubc_resource::numproc: f |= field_pids; break;
      case ubc_resource::physpages:
      case ubc_resource::swappages:
      case ubc_resource::kmemsize: f |= field_memory; break;
      case ubc_resource::oomguarpages:
      case ubc_resource::vmguarpages: f |= field_guarantee; break;
      default: break;  // kept in CTID.conf, not enforced by cgroups
    }
  }
  if (changes.cpu.cpuunits) f |= field_cpu_shares;
  if (changes.cpu.cpulimit || changes.cpu.cpus) f |= field_cpu_quota;
  if (changes.cpu.cpumask) f |= field_cpuset;
  return f;
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
  return v->limit;
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
