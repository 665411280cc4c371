// cgroup v2 resources: the limits, device rules and counters of a VE's cgroup in the one
// unified hierarchy. A controller the parent did not enable has no files in it
// (kernel/cgroupfs_v2.cpp enables them).

#include "kernel/cgroup_common.hpp"
#include "kernel/cgroup_resources.hpp"
#include "kernel/cpu_weight.hpp"
#include "kernel/device_bpf.hpp"

namespace ovz::detail {
namespace {

result<void> apply_memory(const cgroup_dir& d, const cgroup_limits& l) {
  BOOST_OUTCOME_TRY(write_number(d, "memory.max", l.memory_max, "max"));
  if (d.has("memory.swap.max")) return write_number(d, "memory.swap.max", l.swap_max, "max");
  if (l.swap_max)
    return fail(errc::unsupported, "{} is missing: swap accounting is off",
                d.file("memory.swap.max"));
  return success();
}

result<void> apply_guarantee(const cgroup_dir& d, const cgroup_limits& l) {
  BOOST_OUTCOME_TRY(write_number(d, "memory.min", l.memory_min, ""));
  return write_number(d, "memory.low", l.memory_low, "");
}

result<void> apply_cpu_quota(const cgroup_dir& d, const cgroup_limits& l) {
  auto quota = l.cpu_quota_us ? std::to_string(*l.cpu_quota_us) : std::string("max");
  return d.write("cpu.max", fmt::format("{} {}", quota, l.cpu_period_us));
}

// memory.current, memory.peak and memory.swap.current show the page counters themselves:
// `known` replaces them. The failures stay from the event files, which count each refused
// charge once (the page counters' failcnt also counts the retries of one charge), and the
// swap peak from its file (the module does not read the swap counter's watermark).
result<void> memory_usage(const cgroup_dir& d, const memcg_counters* known, cgroup_usage& u) {
  std::optional<std::uint64_t> mem, mem_peak, swap;
  if (known) {
    mem = known->memory;
    mem_peak = known->memory_peak;
    if (d.has("memory.swap.current")) swap = known->swap;
  } else {
    BOOST_OUTCOME_TRY(m, read_number(d, "memory.current"));
    BOOST_OUTCOME_TRY(p, read_number(d, "memory.peak"));
    BOOST_OUTCOME_TRY(s, read_number(d, "memory.swap.current"));
    mem = m;
    mem_peak = p;
    swap = s;
  }
  BOOST_OUTCOME_TRY(mem_fails, read_keyed(d, "memory.events", "max"));
  u.memory = make_counter(mem, mem_peak, mem_fails, mem.has_value());
  BOOST_OUTCOME_TRY(swap_peak, read_number(d, "memory.swap.peak"));
  BOOST_OUTCOME_TRY(swap_fails, read_keyed(d, "memory.swap.events", "fail"));
  u.swap = make_counter(swap, swap_peak, swap_fails, swap.has_value());
  // v2 accounts kernel memory with the rest and has no separate limit: only held.
  BOOST_OUTCOME_TRY(stat, read_keys(d, "memory.stat", {"kernel", "shmem"}));
  u.kmem = make_counter(stat[0], std::nullopt, std::nullopt, false);
  u.shmem = make_counter(stat[1], std::nullopt, std::nullopt, false);
  return success();
}

result<void> read_limits(const cgroup_dir& d, cgroup_limits& l) {
  BOOST_OUTCOME_TRY(pids, read_number(d, "pids.max"));
  if (pids) {
    l.pids_max = limit_of(*pids);
    l.fields |= field_pids;
  }
  BOOST_OUTCOME_TRY(mem, read_number(d, "memory.max"));
  BOOST_OUTCOME_TRY(swap, read_number(d, "memory.swap.max"));
  if (mem) {
    l.memory_max = limit_of(*mem);
    if (swap) l.swap_max = limit_of(*swap);
    l.fields |= field_memory;
  }
  BOOST_OUTCOME_TRY(min, read_number(d, "memory.min"));
  BOOST_OUTCOME_TRY(low, read_number(d, "memory.low"));
  if (min && low) {
    l.memory_min = *min;
    l.memory_low = *low;
    l.fields |= field_guarantee;
  }
  return success();
}

class cgroup_v2_resources final : public cgroup_resources {
 public:
  // A controller the parent did not enable has no files here; its limits are then not
  // written (and usage() reports them as not enforced).
  result<void> apply(const ve_cgroup& cg, const cgroup_limits& l) override {
    const cgroup_dir& d = unified(cg);
    auto file = [&](const char* name, unsigned field) { return (l.fields & field) && d.has(name); };
    if (file("pids.max", field_pids)) {
      BOOST_OUTCOME_TRY(write_number(d, "pids.max", l.pids_max, "max"));
    }
    if (file("memory.max", field_memory)) {
      BOOST_OUTCOME_TRY(apply_memory(d, l));
    }
    if (file("memory.min", field_guarantee)) {
      BOOST_OUTCOME_TRY(apply_guarantee(d, l));
    }
    if (file("cpu.weight", field_cpu_shares)) {
      BOOST_OUTCOME_TRY(write_number(d, "cpu.weight", weight_from_shares(l.cpu_shares), ""));
    }
    if (file("cpu.max", field_cpu_quota)) {
      BOOST_OUTCOME_TRY(apply_cpu_quota(d, l));
    }
    if (file("cpuset.cpus", field_cpuset)) {
      BOOST_OUTCOME_TRY(cpus, cpuset_cpus_for(d, l, "cpuset.cpus.effective"));
      BOOST_OUTCOME_TRY(d.write("cpuset.cpus", cpus));
    }
    return success();
  }

  result<void> allow_devices(const ve_cgroup& cg,
                             const std::vector<device_rule>& allowed) override {
    return attach_device_program(unified(cg), allowed);
  }

  std::vector<const char*> event_files() const override {
    return {"pids.events", "memory.events", "memory.swap.events"};
  }

  result<void> write_files(const ve_cgroup& cg,
                           const std::map<std::string, std::string>& files) override {
    const cgroup_dir& d = unified(cg);
    for (const auto& [name, value] : files) {
      if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
        return fail(errc::invalid_argument, "\"{}\" is not the name of a cgroup file", name);
      // The kernel refuses no write to a file that is not there: it is not created.
      if (!d.has(name.c_str()))
        return sys_fail(ENOENT, "write {} to the cgroup file {}", value, name);
      BOOST_OUTCOME_TRY(d.write(name.c_str(), value));
    }
    return success();
  }

  result<cgroup_usage> usage(const ve_cgroup& cg, const memcg_counters* known) const override {
    const cgroup_dir& d = unified(cg);
    cgroup_usage u;
    BOOST_OUTCOME_TRY(pids, read_number(d, "pids.current"));
    BOOST_OUTCOME_TRY(pids_peak, read_number(d, "pids.peak"));
    BOOST_OUTCOME_TRY(pids_fails, read_keyed(d, "pids.events", "max"));
    u.pids = make_counter(pids, pids_peak, pids_fails, pids.has_value());
    BOOST_OUTCOME_TRY(memory_usage(d, known, u));
    return u;
  }

  result<std::uint64_t> cpu_time_us(const ve_cgroup& cg) const override {
    BOOST_OUTCOME_TRY(us, read_keyed(unified(cg), "cpu.stat", "usage_usec"));
    return us.value_or(0);
  }

  result<cgroup_limits> limits(const ve_cgroup& cg) const override {
    cgroup_limits l;
    l.fields = 0;
    BOOST_OUTCOME_TRY(read_limits(unified(cg), l));
    return l;
  }

 private:
  static const cgroup_dir& unified(const ve_cgroup& cg) { return cg.dirs.front().dir; }
};

}  // namespace

std::unique_ptr<cgroup_resources> make_cgroup_v2_resources() {
  return std::make_unique<cgroup_v2_resources>();
}

}  // namespace ovz::detail
