// cgroup v2: one unified hierarchy. Controllers must be enabled in each ancestor's
// cgroup.subtree_control before a VE's cgroup gets their files.

#include "kernel/cgroup.hpp"
#include "kernel/cgroup_common.hpp"
#include "kernel/cpu_weight.hpp"
#include "kernel/device_bpf.hpp"
#include "kernel/files.hpp"

#include <sys/stat.h>

#include <sstream>

namespace ovz::detail {
namespace {

constexpr const char* wanted[] = {"cpuset", "cpu", "io", "memory", "pids"};

// Enables what the parent offers of the controllers VEs use. A controller that cannot be
// enabled (offered by no ancestor, or a threaded subtree) is left off here; whoever needs its
// files reports that it is missing.
result<void> enable_controllers(const std::string& parent) {
  BOOST_OUTCOME_TRY(offered, read_file(parent + "/cgroup.controllers"));
  BOOST_OUTCOME_TRY(enabled, read_file(parent + "/cgroup.subtree_control"));
  auto words = [](const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> w;
    for (std::string x; in >> x;) w.push_back(x);
    return w;
  };
  auto has = [](const std::vector<std::string>& list, std::string_view c) {
    for (const auto& x : list)
      if (x == c) return true;
    return false;
  };
  auto offered_list = words(offered), enabled_list = words(enabled);
  for (const char* c : wanted)
    if (has(offered_list, c) && !has(enabled_list, c))
      (void)write_file(parent + "/cgroup.subtree_control", std::string("+") + c);
  return success();
}

class cgroup_v2 final : public cgroup_backend {
 public:
  explicit cgroup_v2(std::string mount) : mount_(std::move(mount)) {}

  int version() const noexcept override { return 2; }

  result<void> create(const std::string& path) override {
    // Each level gets the controllers from its parent; a cgroup that enables them for
    // children may not hold processes itself, so the VE's own cgroup enables none. A parent
    // found without them (a crash after its mkdir, or a concurrent first start not there yet)
    // gets them too: a VE cgroup without the pids controller would run with no NUMPROC.
    return make_levels(mount_, path, [](const std::string& parent, const std::string&) {
      return enable_controllers(parent);
    });
  }

  result<void> attach(const std::string& path, pid_t pid) override {
    return write_file(dir(path) + "/cgroup.procs", std::to_string(pid));
  }

  result<std::vector<pid_t>> procs(const std::string& path) const override {
    return read_procs(dir(path));
  }

  bool exists(const std::string& path) const override {
    struct stat st {};
    return ::stat(dir(path).c_str(), &st) == 0;
  }

  // cgroup.kill (Linux 5.14) kills the whole cgroup at once, forks in flight included, and
  // never signals a PID that was reused; older kernels get SIGKILL by PID.
  result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) override {
    const std::string d = dir(path);
    return kill_until_empty(d, timeout, [&]() -> result<void> {
      if (write_file(d + "/cgroup.kill", "1")) return success();
      return signal_procs(d);
    });
  }

  result<void> remove(const std::string& path) override { return remove_dir(dir(path)); }

  void remove_if_unused(const std::string& path) noexcept override {
    ::rmdir(dir(path).c_str());
  }

  // A controller the parent did not enable has no files here; its limits are then not
  // written (and usage() reports them as not enforced).
  result<void> apply(const std::string& path, const cgroup_limits& l) override {
    const std::string d = dir(path);
    auto file = [&](const char* name, unsigned field) {
      return (l.fields & field) && has_file(d + "/" + name);
    };
    if (file("pids.max", field_pids)) {
      BOOST_OUTCOME_TRY(write_number(d + "/pids.max", l.pids_max, "max"));
    }
    if (file("memory.max", field_memory)) {
      BOOST_OUTCOME_TRY(write_number(d + "/memory.max", l.memory_max, "max"));
      if (has_file(d + "/memory.swap.max")) {
        BOOST_OUTCOME_TRY(write_number(d + "/memory.swap.max", l.swap_max, "max"));
      } else if (l.swap_max) {
        return fail(errc::unsupported, "{}/memory.swap.max is missing: swap accounting is off", d);
      }
    }
    if (file("memory.min", field_guarantee)) {
      BOOST_OUTCOME_TRY(write_number(d + "/memory.min", l.memory_min, ""));
      BOOST_OUTCOME_TRY(write_number(d + "/memory.low", l.memory_low, ""));
    }
    if (file("cpu.weight", field_cpu_shares)) {
      BOOST_OUTCOME_TRY(write_number(d + "/cpu.weight", weight_from_shares(l.cpu_shares), ""));
    }
    if (file("cpu.max", field_cpu_quota)) {
      auto quota = l.cpu_quota_us ? std::to_string(*l.cpu_quota_us) : std::string("max");
      BOOST_OUTCOME_TRY(write_file(d + "/cpu.max", fmt::format("{} {}", quota, l.cpu_period_us)));
    }
    if (file("cpuset.cpus", field_cpuset)) {
      // An empty cpuset.cpus on v2 means the parent's effective CPUs.
      BOOST_OUTCOME_TRY(write_file(d + "/cpuset.cpus", l.cpuset_cpus.empty() ? "\n" : l.cpuset_cpus));
    }
    return success();
  }

  result<void> allow_devices(const std::string& path,
                             const std::vector<device_rule>& allowed) override {
    return attach_device_program(dir(path), allowed);
  }

  std::vector<std::string> event_files(const std::string& path) const override {
    const std::string d = dir(path);
    return {d + "/pids.events", d + "/memory.events", d + "/memory.swap.events"};
  }

  result<cgroup_usage> usage(const std::string& path) const override {
    const std::string d = dir(path);
    cgroup_usage u;
    BOOST_OUTCOME_TRY(pids, read_number(d + "/pids.current"));
    BOOST_OUTCOME_TRY(pids_peak, read_number(d + "/pids.peak"));
    BOOST_OUTCOME_TRY(pids_fails, read_keyed(d + "/pids.events", "max"));
    u.pids = make_counter(pids, pids_peak, pids_fails, pids.has_value());
    BOOST_OUTCOME_TRY(mem, read_number(d + "/memory.current"));
    BOOST_OUTCOME_TRY(mem_peak, read_number(d + "/memory.peak"));
    BOOST_OUTCOME_TRY(mem_fails, read_keyed(d + "/memory.events", "max"));
    u.memory = make_counter(mem, mem_peak, mem_fails, mem.has_value());
    BOOST_OUTCOME_TRY(swap, read_number(d + "/memory.swap.current"));
    BOOST_OUTCOME_TRY(swap_peak, read_number(d + "/memory.swap.peak"));
    BOOST_OUTCOME_TRY(swap_fails, read_keyed(d + "/memory.swap.events", "fail"));
    u.swap = make_counter(swap, swap_peak, swap_fails, swap.has_value());
    // v2 accounts kernel memory with the rest and has no separate limit: only held.
    BOOST_OUTCOME_TRY(kernel, read_keyed(d + "/memory.stat", "kernel"));
    u.kmem = make_counter(kernel, std::nullopt, std::nullopt, false);
    BOOST_OUTCOME_TRY(shmem, read_keyed(d + "/memory.stat", "shmem"));
    u.shmem = make_counter(shmem, std::nullopt, std::nullopt, false);
    BOOST_OUTCOME_TRY(cpu_us, read_keyed(d + "/cpu.stat", "usage_usec"));
    u.cpu_usage_us = cpu_us.value_or(0);
    return u;
  }

 private:
  std::string dir(const std::string& path) const { return mount_ + "/" + path; }
  std::string mount_;
};

}  // namespace

std::unique_ptr<cgroup_backend> make_cgroup_v2(std::string mount_point) {
  return std::make_unique<cgroup_v2>(std::move(mount_point));
}

}  // namespace ovz::detail
