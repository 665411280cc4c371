// cgroup v1: one hierarchy per controller (or co-mounted group), as on legacy and hybrid
// hosts. A VE's cgroup is the same relative path in each hierarchy VEs use.

#include "kernel/cgroup.hpp"
#include "kernel/cgroup_common.hpp"
#include "kernel/fault.hpp"
#include "kernel/files.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace ovz::detail {
namespace {

constexpr const char* wanted[] = {"cpu", "cpuacct", "cpuset", "memory",
                                  "pids", "freezer", "devices", "blkio"};

struct hierarchy {
  std::string mount;
  std::vector<std::string> controllers;
  bool has(std::string_view c) const {
    return std::find(controllers.begin(), controllers.end(), c) != controllers.end();
  }
};

std::vector<hierarchy> find_hierarchies() {
  std::vector<hierarchy> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, devno, root, mount_point, fstype, source, options;
    pre >> id >> parent >> devno >> root >> mount_point;
    post >> fstype >> source >> options;
    if (fstype != "cgroup") continue;
    hierarchy h{mount_point, {}};
    std::istringstream opts(options);
    for (std::string o; std::getline(opts, o, ',');)
      if (std::find(std::begin(wanted), std::end(wanted), o) != std::end(wanted))
        h.controllers.push_back(o);
    if (h.controllers.empty()) continue;
    bool seen = std::any_of(found.begin(), found.end(),
                            [&](const hierarchy& f) { return f.controllers == h.controllers; });
    if (!seen) found.push_back(std::move(h));
  }
  return found;
}

// A cpuset cgroup starts with no CPUs and no memory nodes, and refuses tasks (ENOSPC) until
// it has some: a level found without them gets its parent's, whoever made it. A crash between
// another start's mkdir and its write, or that start still on its way to the write, leaves
// a level empty.
result<void> settle_cpuset(const std::string& parent, const std::string& dir) {
  auto blank = [](const std::string& s) { return s.find_first_not_of(" \n") == std::string::npos; };
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    BOOST_OUTCOME_TRY(own, read_file(dir + "/" + file));
    if (!blank(own)) continue;
    BOOST_OUTCOME_TRY(given, read_file(parent + "/" + file));
    if (blank(given))
      return fail(errc::unsupported, "{}/{} is empty: no CPUs or memory nodes to give {}",
                  parent, file, dir);
    BOOST_OUTCOME_TRY(write_file(dir + "/" + file, given));
  }
  return success();
}

class cgroup_v1 final : public cgroup_backend {
 public:
  cgroup_v1() : h_(find_hierarchies()) {
    auto pids = std::find_if(h_.begin(), h_.end(), [](const auto& h) { return h.has("pids"); });
    procs_index_ = pids == h_.end() ? 0 : static_cast<std::size_t>(pids - h_.begin());
  }

  int version() const noexcept override { return 1; }

  result<void> create(const std::string& path) override {
    if (h_.empty())
      return fail(errc::unsupported,
                  "no cgroup v1 controller is mounted under /sys/fs/cgroup and it is not cgroup2");
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(make_levels(h.mount, path, [&](const std::string& parent,
                                                        const std::string& dir) -> result<void> {
        return h.has("cpuset") ? settle_cpuset(parent, dir) : success();
      }));
    }
    return success();
  }

  result<void> attach(const std::string& path, pid_t pid) override {
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(write_file(h.mount + "/" + path + "/cgroup.procs", std::to_string(pid)));
    }
    return success();
  }

  result<std::vector<pid_t>> procs(const std::string& path) const override {
    if (h_.empty()) return std::vector<pid_t>{};
    return read_procs(dir(path));
  }

  // In any hierarchy: a crash half-way through create() leaves the cgroup in some only.
  bool exists(const std::string& path) const override {
    return std::any_of(h_.begin(), h_.end(), [&](const hierarchy& h) {
      struct stat st {};
      return ::stat((h.mount + "/" + path).c_str(), &st) == 0;
    });
  }

  // Each round freezes the cgroup, signals what it lists and thaws it: a frozen process can
  // neither fork nor exit, so no PID it lists is reused by another process before its signal
  // (SIGKILL takes effect at the thaw). Where it cannot be frozen (no freezer hierarchy, or a
  // task stuck in the kernel) the processes are signalled all the same.
  result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) override {
    if (h_.empty()) return success();
    const std::string listed = dir(path);
    return kill_until_empty(listed, timeout, [&]() -> result<void> {
      if (freeze(path)) fault_point("cgroup:frozen");
      auto signalled = signal_procs(listed);
      BOOST_OUTCOME_TRY(thaw(path));
      return signalled;
    });
  }

  result<void> remove(const std::string& path) override {
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(remove_dir(h.mount + "/" + path));
    }
    return success();
  }

  void remove_if_unused(const std::string& path) noexcept override {
    for (const auto& h : h_) ::rmdir((h.mount + "/" + path).c_str());
  }

  result<void> apply(const std::string& path, const cgroup_limits& l) override {
    auto d = [&](std::string_view controller, unsigned field) {
      return (l.fields & field) ? dir_of(controller, path) : std::nullopt;
    };
    if (auto pids = d("pids", field_pids)) {
      BOOST_OUTCOME_TRY(write_number(*pids + "/pids.max", l.pids_max, "max"));
    }
    if (auto mem = d("memory", field_memory)) {
      BOOST_OUTCOME_TRY(apply_memory(*mem, l));
    }
    if (auto mem = d("memory", field_guarantee)) {
      // v1 has no hard guarantee; the soft limit is what reclaim spares longest.
      const std::uint64_t guarantee = std::max(l.memory_min, l.memory_low);
      BOOST_OUTCOME_TRY(write_number(*mem + "/memory.soft_limit_in_bytes",
                                     guarantee ? std::optional(guarantee) : std::nullopt, "-1"));
    }
    if (auto cpu = d("cpu", field_cpu_shares)) {
      BOOST_OUTCOME_TRY(write_number(*cpu + "/cpu.shares", l.cpu_shares, ""));
    }
    if (auto cpu = d("cpu", field_cpu_quota)) {
      BOOST_OUTCOME_TRY(write_number(*cpu + "/cpu.cfs_period_us", l.cpu_period_us, ""));
      BOOST_OUTCOME_TRY(write_number(*cpu + "/cpu.cfs_quota_us", l.cpu_quota_us, "-1"));
    }
    if (auto cpuset = d("cpuset", field_cpuset)) {
      std::string cpus = l.cpuset_cpus;
      if (cpus.empty()) {
        BOOST_OUTCOME_TRY(parent, read_file(*cpuset + "/../cpuset.cpus"));
        cpus = parent;
      }
      BOOST_OUTCOME_TRY(write_file(*cpuset + "/cpuset.cpus", cpus));
    }
    return success();
  }

  std::vector<std::string> event_files(const std::string&) const override { return {}; }

  result<void> allow_devices(const std::string& path,
                             const std::vector<device_rule>& allowed) override {
    auto d = dir_of("devices", path);
    if (!d) return fail(errc::unsupported, "the cgroup v1 devices controller is not mounted");
    BOOST_OUTCOME_TRY(write_file(*d + "/devices.deny", "a"));
    for (const auto& r : allowed) {
      auto minor = r.minor < 0 ? std::string("*") : std::to_string(r.minor);
      std::string how;
      if (r.access & device_rule::read) how += 'r';
      if (r.access & device_rule::write) how += 'w';
      if (r.access & device_rule::mknod) how += 'm';
      BOOST_OUTCOME_TRY(write_file(*d + "/devices.allow",
                                   fmt::format("{} {}:{} {}", r.type, r.major, minor, how)));
    }
    return success();
  }

  result<cgroup_usage> usage(const std::string& path) const override {
    cgroup_usage u;
    if (auto d = dir_of("pids", path)) {
      BOOST_OUTCOME_TRY(held, read_number(*d + "/pids.current"));
      BOOST_OUTCOME_TRY(peak, read_number(*d + "/pids.peak"));
      BOOST_OUTCOME_TRY(fails, read_keyed(*d + "/pids.events", "max"));
      u.pids = make_counter(held, peak, fails, true);
    }
    if (auto d = dir_of("cpuacct", path)) {
      BOOST_OUTCOME_TRY(ns, read_number(*d + "/cpuacct.usage"));
      u.cpu_usage_us = ns.value_or(0) / 1000;
    }
    if (auto d = dir_of("memory", path)) {
      BOOST_OUTCOME_TRY(held, read_number(*d + "/memory.usage_in_bytes"));
      BOOST_OUTCOME_TRY(peak, read_number(*d + "/memory.max_usage_in_bytes"));
      BOOST_OUTCOME_TRY(fails, read_number(*d + "/memory.failcnt"));
      u.memory = make_counter(held, peak, fails, true);
      // memsw counts RAM and swap together; swap is the difference.
      BOOST_OUTCOME_TRY(memsw, read_number(*d + "/memory.memsw.usage_in_bytes"));
      BOOST_OUTCOME_TRY(memsw_fails, read_number(*d + "/memory.memsw.failcnt"));
      if (memsw) {
        auto swap = std::optional<std::uint64_t>(*memsw > held.value_or(0) ? *memsw - held.value_or(0) : 0);
        u.swap = make_counter(swap, std::nullopt, memsw_fails, true);
      }
      BOOST_OUTCOME_TRY(kheld, read_number(*d + "/memory.kmem.usage_in_bytes"));
      BOOST_OUTCOME_TRY(kpeak, read_number(*d + "/memory.kmem.max_usage_in_bytes"));
      BOOST_OUTCOME_TRY(kfails, read_number(*d + "/memory.kmem.failcnt"));
      if (kheld) u.kmem = make_counter(kheld, kpeak, kfails, has_file(*d + "/memory.kmem.limit_in_bytes"));
      BOOST_OUTCOME_TRY(shmem, read_keyed(*d + "/memory.stat", "shmem"));
      if (shmem) u.shmem = make_counter(shmem, std::nullopt, std::nullopt, false);
    }
    return u;
  }

 private:
  // The freezer's states: FREEZING until every task stopped, then FROZEN. Tasks in
  // uninterruptible sleep (a hung NFS server) keep it FREEZING: timed_out after a second.
  result<void> freeze(const std::string& path) {
    auto d = dir_of("freezer", path);
    if (!d) return fail(errc::unsupported, "the cgroup v1 freezer is not mounted");
    const std::string state = *d + "/freezer.state";
    BOOST_OUTCOME_TRY(write_file(state, "FROZEN"));
    for (int waited = 0; waited < 1000; ++waited) {
      BOOST_OUTCOME_TRY(now, read_file(state));
      if (now.starts_with("FROZEN")) return success();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return fail(errc::timed_out, "{} is still FREEZING after 1 s", state);
  }

  // Fine when the cgroup does not exist (in the freezer hierarchy) or the freezer is absent.
  result<void> thaw(const std::string& path) {
    auto d = dir_of("freezer", path);
    if (!d) return success();
    auto ok = write_file(*d + "/freezer.state", "THAWED");
    if (!ok && ok.error().sys_errno() != ENOENT) return ok.error();
    return success();
  }

  // memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes, so which of the two
  // is written first depends on whether the limits grow or shrink.
  static result<void> apply_memory(const std::string& d, const cgroup_limits& l) {
    const std::string mem = d + "/memory.limit_in_bytes", memsw = d + "/memory.memsw.limit_in_bytes";
    std::optional<std::uint64_t> total;
    if (l.memory_max && l.swap_max) total = *l.memory_max + *l.swap_max;
    const bool has_memsw = has_file(memsw);
    if (l.swap_max && !has_memsw)
      return fail(errc::unsupported,
                  "{} is missing: swap accounting is off (boot with swapaccount=1)", memsw);
    if (auto first = write_number(mem, l.memory_max, "-1"); !first) {
      if (!has_memsw || first.error().sys_errno() != EINVAL) return first.error();
      BOOST_OUTCOME_TRY(write_number(memsw, total, "-1"));
      BOOST_OUTCOME_TRY(write_number(mem, l.memory_max, "-1"));
    } else if (has_memsw) {
      BOOST_OUTCOME_TRY(write_number(memsw, total, "-1"));
    }
    if (has_file(d + "/memory.kmem.limit_in_bytes")) {
      BOOST_OUTCOME_TRY(write_number(d + "/memory.kmem.limit_in_bytes", l.kmem_max, "-1"));
    }
    return success();
  }

  std::optional<std::string> dir_of(std::string_view controller, const std::string& path) const {
    for (const auto& h : h_)
      if (h.has(controller)) return h.mount + "/" + path;
    return std::nullopt;
  }

  std::string dir(const std::string& path) const { return h_[procs_index_].mount + "/" + path; }

  std::vector<hierarchy> h_;
  std::size_t procs_index_ = 0;
};

}  // namespace

std::unique_ptr<cgroup_backend> make_cgroup_v1() { return std::make_unique<cgroup_v1>(); }

}  // namespace ovz::detail
