// ovz_density_bench --template: N Debian VEs at once, each waited for until it serves, then
// what each costs. See density_distro.hpp and benchmarks/README.md.

#include "density_distro.hpp"

#include "density_support.hpp"

#include "kernel/cgroup_mounts.hpp"
#include "ve/locate.hpp"

#include <ovz/network.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

namespace ovz_bench {
namespace {

using namespace std::chrono_literals;

// For the host check, with a margin: a Debian VE as shipped runs about 60 tasks (apache's two
// children of 25 workers each) and costs 8-9 MiB.
constexpr long tasks_per_ve = 70;
constexpr long kib_per_ve = 12 * 1024;
// The seed's figure: 120 such VEs in 768 MB.
constexpr double seed_mib_per_ve = 768.0 / 120;
// A VE's first boot makes its SSH host keys (CPU-bound): on a loaded host that takes a while.
constexpr auto ready_deadline = 120s;
constexpr const char* template_name = "density-debian";
// What must run in a VE, besides its init, for it to count as up (by their comm).
const std::vector<std::string> daemons = {"apache2", "sshd", "cron", "rsyslogd"};

// The VE's routed address, in the program's own network namespace.
std::string address_of(long i) { return fmt::format("10.199.{}.{}", 1 + i / 250, 1 + i % 250); }

double mib(double kib) { return kib / 1024.0; }

// ---- a VE's memory cgroup and its processes ----

struct memory_hierarchy {
  fs::path mount;
  bool v2 = false;
};

// Where the memory controller is: its v1 hierarchy, else the cgroup2 one (a v2 host).
std::optional<memory_hierarchy> find_memory_hierarchy() {
  std::optional<memory_hierarchy> v2;
  for (const auto& h : ovz::detail::ve_cgroup_hierarchies()) {
    if (h.v2) {
      if (!v2) v2 = memory_hierarchy{h.mount_point, true};
    } else if (std::ranges::find(h.controllers, "memory") != h.controllers.end()) {
      return memory_hierarchy{h.mount_point, false};
    }
  }
  return v2;
}

std::map<std::string, long> keyed_file(const fs::path& file) {
  std::map<std::string, long> out;
  std::istringstream in(read_file(file));
  std::string key;
  for (long value; in >> key >> value;) out[key] = value;
  return out;
}

// What a VE's memory cgroup is charged with, in KiB, its children (a systemd's own cgroups)
// included.
struct charge {
  double usage = 0, user = 0, cache = 0, shmem = 0, kernel = 0;
};

charge read_charge(const memory_hierarchy& h, const fs::path& dir) {
  auto stat = keyed_file(dir / "memory.stat");
  auto kib = [](long bytes) { return static_cast<double>(bytes) / 1024; };
  if (h.v2) {
    return {kib(read_long(dir / "memory.current")), kib(stat["anon"]), kib(stat["file"]),
            kib(stat["shmem"]), kib(stat["kernel"])};
  }
  // v1: the total_ lines count the children too; the kernel's part has a counter of its own.
  return {kib(read_long(dir / "memory.usage_in_bytes")), kib(stat["total_rss"]),
          kib(stat["total_cache"]), kib(stat["total_shmem"]),
          kib(read_long(dir / "memory.kmem.usage_in_bytes"))};
}

// The processes in the cgroup `dir` and below it.
std::vector<long> procs_below(const fs::path& dir) {
  std::vector<long> out;
  auto add = [&](const fs::path& d) {
    std::istringstream in(read_file(d / "cgroup.procs"));
    for (long pid; in >> pid;) out.push_back(pid);
  };
  add(dir);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) add(it->path());
  }
  return out;
}

std::string comm_of(long pid) {
  auto s = read_file(fmt::format("/proc/{}/comm", pid));
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// The number after `key` in a /proc file of "Key: value" lines; 0 when absent.
long proc_field(const std::string& text, std::string_view key) {
  const auto at = text.find(fmt::format("\n{}:", key));
  if (at == std::string::npos) return 0;
  auto w = words(text.substr(at + key.size() + 2, 32));
  try {
    return w.empty() ? 0 : std::stol(w[0]);
  } catch (...) {
    return 0;
  }
}

// The processes of one command in all VEs together.
struct command_use {
  long procs = 0, threads = 0, pss_kib = 0;
};

// Waits until the VE serves: apache answers 200 on its address and every daemon runs. The
// time since `t0`, or why not.
timing until_ready(const std::string& ip, const fs::path& cgroup, clock_type::time_point t0) {
  std::string missing = "HTTP 200";
  while (clock_type::now() - t0 < ready_deadline) {
    if (interrupted) return failed("interrupted");
    if (const int status = http_status(ip.c_str()); status != 200) {
      missing = status ? fmt::format("HTTP 200 (answer {})", status) : "HTTP 200 (no answer)";
    } else {
      std::set<std::string> running;
      for (long pid : procs_below(cgroup)) running.insert(comm_of(pid));
      missing.clear();
      for (const auto& d : daemons) {
        if (!running.count(d)) missing += (missing.empty() ? "" : ", ") + d;
      }
      if (missing.empty()) return {ms_since(t0), {}};
    }
    std::this_thread::sleep_for(10ms);
  }
  return failed(fmt::format("not up within {} s: no {}", ready_deadline.count(), missing));
}

// ---- the run ----

// The first three fields of /proc/loadavg.
std::string loadavg() {
  auto w = words(read_file("/proc/loadavg"));
  if (w.size() < 3) return "?";
  return fmt::format("{} {} {}", w[0], w[1], w[2]);
}

struct ve_reading {
  charge c;
  long procs = 0, tasks = 0;
};

struct run_results {
  long started = 0;  // up and serving
  std::string failure;
  std::vector<double> create_ms, start_ms, ready_ms;
  std::vector<ve_reading> each;
  std::map<std::string, command_use> commands;
  command_use monitors;
  std::optional<kernel_memory> kernel_up;  // meminfo growth: before the first start → all up
  long free_drop = 0, avail_drop = 0;      // KiB, the same span
  stop_results stop;
  std::optional<kernel_memory> kernel_freed;  // what the stop of all gave back
  long free_back_at_once = 0;      // as the stop of all returns
  long free_back = 0, avail_back = 0;  // once the kernel memory is still
  std::string load_start, load_end;  // /proc/loadavg: the others' work on the host
  double destroy_all_ms = 0;
};

// Adds process `pid` to `use`; its threads, or 0 when it is gone.
long count_in(command_use& use, long pid) {
  const auto status = read_file(fmt::format("/proc/{}/status", pid));
  if (status.empty()) return 0;
  const long threads = proc_field(status, "Threads");
  ++use.procs;
  use.threads += threads;
  use.pss_kib += proc_field("\n" + read_file(fmt::format("/proc/{}/smaps_rollup", pid)), "Pss");
  return threads;
}

// The VE's charge and processes, each added to `commands` by name; the VE's ovz-monitor (the
// init's parent, on the host and outside the VE's cgroup) to `monitors`.
ve_reading read_ve(const memory_hierarchy& mh, const fs::path& cg,
                   std::map<std::string, command_use>& commands, command_use& monitors) {
  ve_reading v{read_charge(mh, cg)};
  for (long pid : procs_below(cg)) {
    const long threads = count_in(commands[comm_of(pid)], pid);
    if (threads == 0) continue;  // gone meanwhile
    ++v.procs;
    v.tasks += threads;
    const long parent = proc_field(read_file(fmt::format("/proc/{}/status", pid)), "PPid");
    if (comm_of(parent) == "ovz-monitor") count_in(monitors, parent);
  }
  return v;
}

// Starts VE `i` of the run (create, address, start) and waits until it serves.
std::string start_one(ovz::ve& ve, long i, const fs::path& root, const memory_hierarchy& mh,
                      run_results& r, fs::path& cgroup) {
  const auto ip = address_of(i);
  auto address = ovz::ip_address::parse(ip);
  if (!address) return fmt::format("{}: {}", ip, address.error().message());
  const auto t0 = clock_type::now();
  if (auto c = ve.create({.ostemplate = template_name}); !c) {
    return fmt::format("create: {}", c.error().message());
  }
  r.create_ms.push_back(ms_since(t0));
  if (auto a = ve.add_ip(*address, true); !a) return fmt::format("add_ip: {}", a.error().message());
  // The cgroup as the library names it: the state root's cgroup parent and the CTID.
  auto layout = ovz::detail::locate(root, ve.id());
  if (!layout) return fmt::format("locate: {}", layout.error().message());
  cgroup = mh.mount / layout->cgroup;
  const auto t1 = clock_type::now();
  if (auto s = ve.start(); !s) return fmt::format("start: {}", s.error().message());
  r.start_ms.push_back(ms_since(t1));
  std::error_code ec;
  if (!fs::is_directory(cgroup, ec)) {
    return fmt::format("no memory cgroup at {} (a host whose VE cgroups systemd makes is not "
                       "supported here)", cgroup.string());
  }
  auto up = until_ready(ip, cgroup, t1);
  if (!up.failure.empty()) return up.failure;
  r.ready_ms.push_back(up.ms);
  return {};
}

run_results run(const fs::path& root, const memory_hierarchy& mh, long n) {
  run_results r;
  ctid_source ids(root);
  ve_fleet fleet;
  auto& ves = fleet.all();
  ves.reserve(n);
  std::vector<fs::path> cgroups;

  r.load_start = loadavg();
  const auto before = settled_baseline("the first VE start");
  auto m0 = meminfo();
  for (long i = 0; i < n && !interrupted; ++i) {
    // Stop short of starving the host: at 5 % available, no further VE is started.
    if (const long avail = meminfo()["MemAvailable"]; avail < m0["MemTotal"] / 20) {
      r.failure = fmt::format("stopped at {} VEs: MemAvailable down to {} MiB", i, avail / 1024);
      break;
    }
    if (i % 20 == 0 && i > 0) {
      fmt::print(stderr, "    {} up, the last in {:.0f} ms\n", i, r.ready_ms.back());
    }
    auto v = ids.next();
    if (!v) {
      r.failure = fmt::format("VE {}: open: {}", i + 1, v.error().message());
      break;
    }
    ves.push_back(*v);
    fs::path cg;
    if (auto why = start_one(ves.back(), i, root, mh, r, cg); !why.empty()) {
      r.failure = fmt::format("VE {} ({}): {}", i + 1, v->id().str(), why);
      break;
    }
    cgroups.push_back(cg);
    ++r.started;
  }

  if (r.started > 0 && !interrupted) {
    fmt::print(stderr, "  {} up; reading\n", r.started);
    const auto up = settled_baseline("the readings");
    auto m1 = meminfo();
    r.kernel_up = up - before;
    r.free_drop = m0["MemFree"] - m1["MemFree"];
    r.avail_drop = m0["MemAvailable"] - m1["MemAvailable"];
    for (const auto& cg : cgroups) r.each.push_back(read_ve(mh, cg, r.commands, r.monitors));

    // What the stop of all gives back: the cleanest figure on a host where others work too,
    // a few seconds' span.
    const auto k2 = kernel_memory::now();
    auto m2 = meminfo();
    r.stop = stop_all_fast(ves, r.started);
    r.free_back_at_once = meminfo()["MemFree"] - m2["MemFree"];
    const auto after = settled_baseline("reading what the stop freed");
    auto m3 = meminfo();
    r.kernel_freed = k2 - after;
    r.free_back = m3["MemFree"] - m2["MemFree"];
    r.avail_back = m3["MemAvailable"] - m2["MemAvailable"];
  }
  r.load_end = loadavg();
  const auto t0 = clock_type::now();
  fleet.clear();
  r.destroy_all_ms = ms_since(t0);
  return r;
}

// ---- report ----

// "sysvinit" or "systemd", from the tree's /sbin/init.
std::string init_of(const fs::path& tree) {
  std::error_code ec;
  const auto target = fs::read_symlink(tree / "sbin/init", ec).string();
  return !ec && target.find("systemd") != std::string::npos ? "systemd" : "sysvinit";
}

// A VE's root is the host's root (unless the VE has a user namespace), so the inotify
// instances of all VEs count against root's fs.inotify.max_user_instances, 128 by default. A
// systemd VE takes 5 or 6 (PID 1 five, a console getty one): at the limit the next VE's
// systemd starts no services. A sysvinit VE takes none.
void inotify_check(long n, const std::string& init) {
  constexpr long per_ve = 6;
  const long max = read_long("/proc/sys/fs/inotify/max_user_instances");
  if (init != "systemd" || max < 0 || max >= n * per_ve) return;
  fmt::print("host: TOO SMALL? fs.inotify.max_user_instances {} < the {} that {} systemd VEs "
             "take (every VE's root shares the host root's; sysctl -w "
             "fs.inotify.max_user_instances={})\n",
             max, n * per_ve, n, n * per_ve + 128);
}

void print_charges(const std::vector<ve_reading>& each) {
  fmt::print("\nmemory-cgroup charge per VE, MiB (each VE's memory cgroup with all up): median "
             "(min–max), mean\n");
  auto line = [&](std::string_view name, double charge::*field) {
    std::vector<double> v;
    for (const auto& e : each) v.push_back(mib(e.c.*field));
    const auto s = summarize(v);
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    fmt::print("  {:<34} {:>6.2f} ({:.2f}–{:.2f})   mean {:>6.2f}\n", name, s.median, s.min,
               s.max, mean);
  };
  line("charge (usage)", &charge::usage);
  line("  user (rss: anonymous)", &charge::user);
  line("  cache (page cache and tmpfs)", &charge::cache);
  line("    of it shmem (/run, /dev/shm, SysV)", &charge::shmem);
  line("  kernel (kmem)", &charge::kernel);
  std::vector<double> procs, tasks;
  for (const auto& e : each) {
    procs.push_back(static_cast<double>(e.procs));
    tasks.push_back(static_cast<double>(e.tasks));
  }
  fmt::print("  processes per VE {:.0f}, tasks (threads) {:.0f} (medians)\n",
             summarize(procs).median, summarize(tasks).median);
}

void print_commands(const std::map<std::string, command_use>& commands,
                    const command_use& monitors, long n) {
  std::vector<std::pair<std::string, command_use>> sorted(commands.begin(), commands.end());
  std::ranges::sort(sorted, [](auto& a, auto& b) { return a.second.pss_kib > b.second.pss_kib; });
  fmt::print("\nPss per VE by command (all VEs' processes of that name / N), MiB\n");
  fmt::print("  {:<16} {:>7} {:>8} {:>8}\n", "command", "procs", "threads", "Pss");
  long total = 0;
  const auto per = [&](long x) { return static_cast<double>(x) / static_cast<double>(n); };
  for (const auto& [name, use] : sorted) {
    fmt::print("  {:<16} {:>7.1f} {:>8.1f} {:>8.2f}\n", name, per(use.procs), per(use.threads),
               mib(per(use.pss_kib)));
    total += use.pss_kib;
  }
  fmt::print("  {:<16} {:>7} {:>8} {:>8.2f}\n", "all", "", "", mib(per(total)));
  fmt::print("  and on the host, outside the VE's cgroup:\n");
  fmt::print("  {:<16} {:>7.1f} {:>8.1f} {:>8.2f}\n", "ovz-monitor", per(monitors.procs),
             per(monitors.threads), mib(per(monitors.pss_kib)));
}

void goal_line(std::string_view label, double mib_per_ve) {
  if (mib_per_ve <= 0) {
    fmt::print("{:<44} {:>7.2f} MiB: the host's other work moved its memory more   n/a\n", label,
               mib_per_ve);
    return;
  }
  fmt::print("{:<44} {:>7.2f} MiB vs {:.2f} MiB ({:.2f}×)   {}\n", label, mib_per_ve,
             seed_mib_per_ve, mib_per_ve / seed_mib_per_ve,
             mib_per_ve <= seed_mib_per_ve ? "met" : "MISSED");
}

void report(const distro_options& o, const std::string& init, const run_results& r) {
  const long n = std::max(1L, r.started);
  const auto per = [&](long kib) { return mib(static_cast<double>(kib) / static_cast<double>(n)); };
  fmt::print("\n== {} Debian VEs ({}), template {}\n", o.ves, init,
             o.tune ? "tuned (benchmarks/debian-density-tune)" : "as shipped");
  fmt::print("(no crun comparison in this mode: crun runs one program, not an init with its "
             "daemons)\n");
  fmt::print("host load average (1, 5, 15 min): {} at the first start, {} after the stop\n",
             r.load_start, r.load_end);
  if (!r.failure.empty()) fmt::print("VEs: {} of {} up: {}\n", r.started, o.ves, r.failure);
  print_table({row_of("ve create", r.create_ms), row_of("ve start", r.start_ms),
               row_of("ve start→ready (HTTP 200, daemons)", r.ready_ms),
               row_of("ve stop --fast (each, in parallel)", r.stop.each_ms)});
  if (r.ready_ms.size() >= 10) print_starts(r.ready_ms, "start→ready");
  if (!r.each.empty()) {
    print_charges(r.each);
    fmt::print("\nhost per VE, MiB: before the first start → all up: MemFree {:+.2f}, "
               "MemAvailable {:+.2f}\n", -per(r.free_drop), -per(r.avail_drop));
    fmt::print("                  the stop --fast of all gave back: MemFree {:+.2f} as it "
               "returned, {:+.2f} and MemAvailable {:+.2f} once settled\n",
               per(r.free_back_at_once), per(r.free_back), per(r.avail_back));
    fmt::print("\nkernel memory per VE, KiB (/proc/meminfo)\n");
    print_memory_header();
    print_memory("all up", r.kernel_up, n);
    print_memory("stop freed", r.kernel_freed, n);
    print_commands(r.commands, r.monitors, n);
  }

  fmt::print("\ngoals (the seed: 120 such VEs in 768 MB, {:.1f} MiB each)\n", seed_mib_per_ve);
  fmt::print("{:<44} {} of {} up   {}\n", "Debian VEs at once, each serving", r.started, o.ves,
             r.started == o.ves && r.failure.empty() ? "met" : "MISSED");
  if (!r.each.empty()) {
    double total = 0;
    for (const auto& e : r.each) total += e.c.usage;
    goal_line("memory-cgroup charge per VE (mean)", mib(total / static_cast<double>(n)));
    goal_line("host MemFree per VE given back by the stop", per(r.free_back_at_once));
  } else {
    fmt::print("{:<44} n/a\n", "memory per VE");
  }
  print_start_goal(r.ready_ms, "start→ready");
  print_stop_goal(r.stop, r.started);
  fmt::print("(destroy of all, untimed in the goals: {:.2f} s)\n", r.destroy_all_ms / 1000);
}

}  // namespace

int run_distro_density(const distro_options& o) {
  // The stand-in host, while this is the only thread: the VEs' addresses and routes stay in it.
  if (auto why = isolate_network(); !why.empty()) {
    fmt::print(stderr, "ovz_density_bench: {}\n", why);
    return 1;
  }
  catch_interrupts();
  auto mh = find_memory_hierarchy();
  if (!mh) {
    fmt::print(stderr, "ovz_density_bench: no memory cgroup controller is mounted\n");
    return 1;
  }
  bench_state_root state(o.root, "ovz-density-root");
  if (!state.failure().empty()) {
    fmt::print(stderr, "ovz_density_bench: {}\n", state.failure());
    return 1;
  }
  fmt::print("ovz_density_bench: {} VEs from {}; state root {}\n", o.ves, o.tarball.string(),
             state.path().string());
  const auto t0 = clock_type::now();
  auto imported = ovz::template_store(state.path()).import(o.tarball, template_name);
  if (!imported) {
    fmt::print(stderr, "ovz_density_bench: import {}: {}\n", o.tarball.string(),
               imported.error().message());
    return 1;
  }
  fmt::print("imported in {:.1f} s\n", ms_since(t0) / 1000);
  if (o.tune) {
    std::string out;
    auto t = run_command({OVZ_DENSITY_TUNE, imported->path.string()}, &out);
    if (!t.failure.empty()) {
      fmt::print(stderr, "ovz_density_bench: {}\n", t.failure);
      return 1;
    }
    fmt::print("{}", out);
  }
  for (const auto& p : host_check(o.ves, tasks_per_ve, kib_per_ve)) {
    fmt::print("host: TOO SMALL? {}\n", p);
  }
  inotify_check(o.ves, init_of(imported->path));
  std::fflush(stdout);

  auto r = run(state.path(), *mh, o.ves);
  report(o, init_of(imported->path), r);
  if (interrupted) fmt::print("\ninterrupted: the numbers above are partial\n");
  std::fflush(stdout);
  return interrupted ? 128 + interrupted : 0;
}

}  // namespace ovz_bench
