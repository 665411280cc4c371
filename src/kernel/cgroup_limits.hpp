#pragma once
// What a VE's cgroup is told and what it reports, in the kernel's units (bytes, counts,
// microseconds). The VE layer translates OpenVZ's parameters into these; each backend writes
// them into its own files.

#include <cstdint>
#include <optional>
#include <string>

namespace ovz::detail {

// Which limits an apply() writes: a live change touches only what it changes, so that another
// live change made before (and not saved) stays in force.
enum limit_field : unsigned {
  field_pids = 1u << 0,
  field_memory = 1u << 1,  // memory_max, swap_max and kmem_max: v1 orders them together
  field_guarantee = 1u << 2,
  field_cpu_shares = 1u << 3,
  field_cpu_quota = 1u << 4,
  field_cpuset = 1u << 5,
  all_fields = (1u << 6) - 1,
};

struct cgroup_limits {
  unsigned fields = all_fields;
  std::optional<std::uint64_t> pids_max;    // nullopt: no limit
  std::optional<std::uint64_t> memory_max;  // bytes of RAM
  std::optional<std::uint64_t> swap_max;    // bytes of swap on top of RAM
  std::optional<std::uint64_t> kmem_max;    // bytes of kernel memory; v1 only
  std::uint64_t memory_min = 0;             // bytes protected from reclaim
  std::uint64_t memory_low = 0;             // bytes protected while others have reclaimable
  std::uint64_t cpu_shares = 1024;          // v1 cpu.shares; v2 takes the matching weight
  std::optional<std::uint64_t> cpu_quota_us;  // per period; nullopt: no ceiling
  std::uint64_t cpu_period_us = 100000;
  std::string cpuset_cpus;                  // empty: every CPU the parent has, or…
  std::uint32_t cpuset_count = 0;           // …this many of them (0: all), consecutive from
  std::uint64_t cpuset_start = 0;           // this position in the parent's list (take_cpus)
};

// A device node VE processes may use: 'c' or 'b', major, minor (-1: any), and how.
struct device_rule {
  enum access_bits : unsigned { mknod = 1, read = 2, write = 4, all = 7 };
  char type = 'c';
  unsigned major = 0;
  int minor = -1;
  unsigned access = all;
};

struct cgroup_counter {
  std::uint64_t held = 0;
  std::uint64_t peak = 0;     // the kernel's high-water mark, or held where it keeps none
  std::uint64_t failcnt = 0;  // how often the kernel refused or hit the limit
  bool measured = false;      // the kernel reports this counter here
  bool enforced = false;      // the kernel applies a limit to it here
};

// A VE's memory cgroup page counters as read inside the kernel (the ovz module's snapshot),
// in bytes. A backend takes from them what its files would say of the same counters and reads
// the rest from its files.
struct memcg_counters {
  std::uint64_t memory = 0, memory_peak = 0;
  std::uint64_t memory_failcnt = 0;  // the page counter's: v1's memory.failcnt
  std::uint64_t swap = 0;            // v1: memsw − memory
  std::uint64_t swap_failcnt = 0;    // v1: memsw's failcnt
  std::uint64_t kmem = 0;            // v1's kmem counter
};

struct cgroup_usage {
  cgroup_counter pids;
  cgroup_counter memory;  // bytes
  cgroup_counter swap;    // bytes
  cgroup_counter kmem;    // bytes
  cgroup_counter shmem;   // bytes, held only
};

}  // namespace ovz::detail
