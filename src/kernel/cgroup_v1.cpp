// cgroup v1 resources: the limits, device rules and counters of a VE's cgroup, each in the
// hierarchy of its controller (kernel/cgroupfs_v1.cpp finds the hierarchies).

#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_resources.hpp"

#include <algorithm>

namespace ovz::detail {
namespace {

// memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes, so which of the two
// is written first depends on whether the limits grow or shrink.
result<void> apply_memory(const cgroup_dir& d, const cgroup_limits& l) {
  const char* mem = "memory.limit_in_bytes";
  const char* memsw = "memory.memsw.limit_in_bytes";
  std::optional<std::uint64_t> total;
  if (l.memory_max && l.swap_max) total = *l.memory_max + *l.swap_max;
  const bool has_memsw = d.has(memsw);
  if (l.swap_max && !has_memsw)
    return fail(errc::unsupported,
                "{} is missing: swap accounting is off (boot with swapaccount=1)", d.file(memsw));
  if (auto first = write_number(d, mem, l.memory_max, "-1"); !first) {
    if (!has_memsw || first.error().sys_errno() != EINVAL) return first.error();
    BOOST_OUTCOME_TRY(write_number(d, memsw, total, "-1"));
    BOOST_OUTCOME_TRY(write_number(d, mem, l.memory_max, "-1"));
  } else if (has_memsw) {
    BOOST_OUTCOME_TRY(write_number(d, memsw, total, "-1"));
  }
  if (d.has("memory.kmem.limit_in_bytes")) {
    BOOST_OUTCOME_TRY(write_number(d, "memory.kmem.limit_in_bytes", l.kmem_max, "-1"));
  }
  return success();
}

// v1 has no hard guarantee; the soft limit is what reclaim spares longest.
result<void> apply_guarantee(const cgroup_dir& d, const cgroup_limits& l) {
  const std::uint64_t guarantee = std::max(l.memory_min, l.memory_low);
  return write_number(d, "memory.soft_limit_in_bytes",
                      guarantee ? std::optional(guarantee) : std::nullopt, "-1");
}

result<void> apply_cpu_quota(const cgroup_dir& d, const cgroup_limits& l) {
  BOOST_OUTCOME_TRY(write_number(d, "cpu.cfs_period_us", l.cpu_period_us, ""));
  return write_number(d, "cpu.cfs_quota_us", l.cpu_quota_us, "-1");
}

result<void> apply_cpuset(const cgroup_dir& d, const cgroup_limits& l) {
  BOOST_OUTCOME_TRY(cpus, cpuset_cpus_for(d, l, "cpuset.cpus"));
  return d.write("cpuset.cpus", cpus);
}

result<cgroup_counter> pids_usage(const cgroup_dir& d) {
  BOOST_OUTCOME_TRY(held, read_number(d, "pids.current"));
  BOOST_OUTCOME_TRY(peak, read_number(d, "pids.peak"));
  BOOST_OUTCOME_TRY(fails, read_keyed(d, "pids.events", "max"));
  return make_counter(held, peak, fails, true);
}

// v1's files show the page counters themselves: with `known` only what they lack is read
// (kmem's peak and failcnt, shmem). The memsw and kmem counters exist (the module reads
// zeros from them otherwise) only where their files do: swap accounting on, kmem not
// disabled.
result<void> memory_usage(const cgroup_dir& d, const memcg_counters* known, cgroup_usage& u) {
  if (known) {
    u.memory = make_counter(known->memory, known->memory_peak, known->memory_failcnt, true);
    if (d.has("memory.memsw.usage_in_bytes"))
      u.swap = make_counter(known->swap, std::nullopt, known->swap_failcnt, true);
  } else {
    BOOST_OUTCOME_TRY(held, read_number(d, "memory.usage_in_bytes"));
    BOOST_OUTCOME_TRY(peak, read_number(d, "memory.max_usage_in_bytes"));
    BOOST_OUTCOME_TRY(fails, read_number(d, "memory.failcnt"));
    u.memory = make_counter(held, peak, fails, true);
    // memsw counts RAM and swap together; swap is the difference.
    BOOST_OUTCOME_TRY(memsw, read_number(d, "memory.memsw.usage_in_bytes"));
    BOOST_OUTCOME_TRY(memsw_fails, read_number(d, "memory.memsw.failcnt"));
    if (memsw) {
      const auto ram = held.value_or(0);
      auto swap = std::optional<std::uint64_t>(*memsw > ram ? *memsw - ram : 0);
      u.swap = make_counter(swap, std::nullopt, memsw_fails, true);
    }
  }
  std::optional<std::uint64_t> kheld;
  if (!known) {
    BOOST_OUTCOME_TRY(k, read_number(d, "memory.kmem.usage_in_bytes"));
    kheld = k;
  } else if (d.has("memory.kmem.usage_in_bytes")) {
    kheld = known->kmem;
  }
  BOOST_OUTCOME_TRY(kpeak, read_number(d, "memory.kmem.max_usage_in_bytes"));
  BOOST_OUTCOME_TRY(kfails, read_number(d, "memory.kmem.failcnt"));
  if (kheld) u.kmem = make_counter(kheld, kpeak, kfails, d.has("memory.kmem.limit_in_bytes"));
  BOOST_OUTCOME_TRY(shmem, read_keyed(d, "memory.stat", "shmem"));
  if (shmem) u.shmem = make_counter(shmem, std::nullopt, std::nullopt, false);
  return success();
}

// memsw limits RAM and swap together; apply_memory writes it only with both limited. The
// guarantees are not read: v1 holds both in one soft limit.
result<void> memory_limits(const cgroup_dir& d, cgroup_limits& l) {
  BOOST_OUTCOME_TRY(mem, read_number(d, "memory.limit_in_bytes"));
  BOOST_OUTCOME_TRY(memsw, read_number(d, "memory.memsw.limit_in_bytes"));
  BOOST_OUTCOME_TRY(kmem, read_number(d, "memory.kmem.limit_in_bytes"));
  if (!mem) return success();
  l.memory_max = limit_of(*mem);
  const auto total = memsw ? limit_of(*memsw) : std::nullopt;
  if (l.memory_max && total && *total >= *l.memory_max) l.swap_max = *total - *l.memory_max;
  if (kmem) l.kmem_max = limit_of(*kmem);
  l.fields |= field_memory;
  return success();
}

class cgroup_v1_resources final : public cgroup_resources {
 public:
  result<void> apply(const ve_cgroup& cg, const cgroup_limits& l) override {
    auto d = [&](std::string_view controller, unsigned field) {
      return (l.fields & field) ? cg.with(controller) : nullptr;
    };
    if (auto pids = d("pids", field_pids)) {
      BOOST_OUTCOME_TRY(write_number(*pids, "pids.max", l.pids_max, "max"));
    }
    if (auto mem = d("memory", field_memory)) {
      BOOST_OUTCOME_TRY(apply_memory(*mem, l));
    }
    if (auto mem = d("memory", field_guarantee)) {
      BOOST_OUTCOME_TRY(apply_guarantee(*mem, l));
    }
    if (auto cpu = d("cpu", field_cpu_shares)) {
      BOOST_OUTCOME_TRY(write_number(*cpu, "cpu.shares", l.cpu_shares, ""));
    }
    if (auto cpu = d("cpu", field_cpu_quota)) {
      BOOST_OUTCOME_TRY(apply_cpu_quota(*cpu, l));
    }
    if (auto cpuset = d("cpuset", field_cpuset)) {
      BOOST_OUTCOME_TRY(apply_cpuset(*cpuset, l));
    }
    return success();
  }

  std::vector<const char*> event_files() const override { return {}; }

  result<void> write_files(const ve_cgroup&,
                           const std::map<std::string, std::string>& files) override {
    if (files.empty()) return success();
    return fail(errc::unsupported, "{}: cgroup v2 files by name need cgroup v2; this host's "
                "cgroups are v1", files.begin()->first);
  }

  result<void> allow_devices(const ve_cgroup& cg,
                             const std::vector<device_rule>& allowed) override {
    auto d = cg.with("devices");
    if (!d) return fail(errc::unsupported, "the cgroup v1 devices controller is not mounted");
    BOOST_OUTCOME_TRY(d->write("devices.deny", "a"));
    for (const auto& r : allowed) {
      auto minor = r.minor < 0 ? std::string("*") : std::to_string(r.minor);
      std::string how;
      if (r.access & device_rule::read) how += 'r';
      if (r.access & device_rule::write) how += 'w';
      if (r.access & device_rule::mknod) how += 'm';
      BOOST_OUTCOME_TRY(
          d->write("devices.allow", fmt::format("{} {}:{} {}", r.type, r.major, minor, how)));
    }
    return success();
  }

  result<cgroup_usage> usage(const ve_cgroup& cg, const memcg_counters* known) const override {
    cgroup_usage u;
    if (auto d = cg.with("pids")) {
      BOOST_OUTCOME_TRY(pids, pids_usage(*d));
      u.pids = pids;
    }
    if (auto d = cg.with("memory")) {
      BOOST_OUTCOME_TRY(memory_usage(*d, known, u));
    }
    return u;
  }

  result<std::uint64_t> cpu_time_us(const ve_cgroup& cg) const override {
    auto d = cg.with("cpuacct");
    if (!d) return std::uint64_t{0};
    BOOST_OUTCOME_TRY(ns, read_number(*d, "cpuacct.usage"));
    return ns.value_or(0) / 1000;
  }

  result<cgroup_limits> limits(const ve_cgroup& cg) const override {
    cgroup_limits l;
    l.fields = 0;
    if (auto d = cg.with("pids")) {
      BOOST_OUTCOME_TRY(max, read_number(*d, "pids.max"));
      if (max) {
        l.pids_max = limit_of(*max);
        l.fields |= field_pids;
      }
    }
    if (auto d = cg.with("memory")) {
      BOOST_OUTCOME_TRY(memory_limits(*d, l));
    }
    return l;
  }
};

}  // namespace

std::unique_ptr<cgroup_resources> make_cgroup_v1_resources() {
  return std::make_unique<cgroup_v1_resources>();
}

}  // namespace ovz::detail
