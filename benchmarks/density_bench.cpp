// ovz_density_bench: N busybox VEs running at once (1000 by default) — what each costs the
// kernel in memory next to a crun container, whether the last start is as quick as the
// early ones, and how long stopping them all takes. A benchmark, not a test: a missed goal
// is reported, never turned into an exit code.

#include "bench_support.hpp"

#include <ovz/ctid.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace ovz_bench;

struct options {
  long ves = 1000;
  fs::path root;  // empty: a fresh directory under /tmp
  bool crun = true;
};

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--ves" && i + 1 < argc) {
      auto n = parse_count(argv[++i]);
      if (!n) return std::nullopt;
      o.ves = *n;
    } else if (a == "--root" && i + 1 < argc) {
      o.root = argv[++i];
    } else if (a == "--no-crun") {
      o.crun = false;
    } else {
      return std::nullopt;
    }
  }
  return o;
}

// ---- the host ----

// /proc/meminfo, in KiB.
std::map<std::string, long> meminfo() {
  std::map<std::string, long> out;
  std::istringstream in(read_file("/proc/meminfo"));
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto w = words(line.substr(colon + 1));
    if (w.empty()) continue;
    try {
      out[line.substr(0, colon)] = std::stol(w[0]);
    } catch (...) {
    }
  }
  return out;
}

long read_long(const fs::path& p) {
  try {
    return std::stol(read_file(p));
  } catch (...) {
    return -1;
  }
}

// Tasks (threads) on the host now.
long host_tasks() {
  long n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const auto name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    for (auto it = fs::directory_iterator(e.path() / "task", ec2);
         !ec2 && it != fs::directory_iterator(); it.increment(ec2)) {
      ++n;
    }
  }
  return n;
}

long open_fds() {
  long n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/self/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// Whether the host can take `n` VEs, by generous estimates per VE; the lines to print when
// it cannot (or might not).
std::vector<std::string> host_check(long n) {
  // Per VE: the monitor, the init and the init's children (busybox init runs a few), with a
  // margin; memory: a few MiB of kernel and user memory each.
  constexpr long tasks_per_ve = 8;
  constexpr long kib_per_ve = 8 * 1024;
  std::vector<std::string> problems;
  const long tasks = host_tasks();
  const long pid_max = read_long("/proc/sys/kernel/pid_max");
  const long threads_max = read_long("/proc/sys/kernel/threads-max");
  const long need = tasks + n * tasks_per_ve;
  fmt::print("host: {} tasks now, pid_max {}, threads-max {}; {} VEs need about {} more tasks "
             "({} per VE, estimated high)\n",
             tasks, pid_max, threads_max, n, n * tasks_per_ve, tasks_per_ve);
  if (pid_max > 0 && need > pid_max) {
    problems.push_back(fmt::format("pid_max {} < the {} tasks needed (raise "
                                   "/proc/sys/kernel/pid_max)", pid_max, need));
  }
  if (threads_max > 0 && need > threads_max) {
    problems.push_back(fmt::format("threads-max {} < the {} tasks needed", threads_max, need));
  }
  auto mem = meminfo();
  const long avail = mem["MemAvailable"];
  fmt::print("host: MemAvailable {} MiB; {} VEs need about {} MiB ({} MiB per VE, estimated "
             "high)\n",
             avail / 1024, n, n * kib_per_ve / 1024, kib_per_ve / 1024);
  if (avail < n * kib_per_ve) {
    problems.push_back(fmt::format("MemAvailable {} MiB < the {} MiB estimated", avail / 1024,
                                   n * kib_per_ve / 1024));
  }
  if (rlimit l{}; ::getrlimit(RLIMIT_NPROC, &l) == 0 && l.rlim_cur != RLIM_INFINITY &&
                  static_cast<long>(l.rlim_cur) < need) {
    problems.push_back(fmt::format("RLIMIT_NPROC {} < the {} tasks needed (root is exempt only "
                                   "with CAP_SYS_RESOURCE)", l.rlim_cur, need));
  }
  return problems;
}

// The kernel memory /proc/meminfo shows, in KiB: what the benchmark divides by N.
struct kernel_memory {
  long sreclaimable = 0, sunreclaim = 0, kernel_stack = 0, page_tables = 0, percpu = 0;
  long vmalloc = 0;  // shown beside, not in the total: it holds the (vmapped) kernel stacks too

  static kernel_memory now() {
    auto m = meminfo();
    return {m["SReclaimable"], m["SUnreclaim"], m["KernelStack"], m["PageTables"], m["Percpu"],
            m["VmallocUsed"]};
  }
  long total() const { return sreclaimable + sunreclaim + kernel_stack + page_tables + percpu; }
  kernel_memory operator-(const kernel_memory& o) const {
    return {sreclaimable - o.sreclaimable, sunreclaim - o.sunreclaim,
            kernel_stack - o.kernel_stack, page_tables - o.page_tables, percpu - o.percpu,
            vmalloc - o.vmalloc};
  }
};

// The reading after all are up: a second for what is freed after an RCU grace period, or by
// a worker, to go.
kernel_memory settled_reading() {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return kernel_memory::now();
}

// The reading once the kernel memory stops moving (what the step before freed after a grace
// period or in a worker: removed cgroups above all), so that it does not land in the next
// step's growth: two readings a second apart within 256 KiB, for at most 30 s.
kernel_memory settled_baseline(std::string_view before_what) {
  auto last = kernel_memory::now();
  const auto t0 = clock_type::now();
  for (int i = 0; i < 30 && !interrupted; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto now = kernel_memory::now();
    const long moved = std::labs(now.total() - last.total());
    last = now;
    if (moved < 256) break;
  }
  fmt::print(stderr, "  kernel memory settled in {:.1f} s before {}\n", ms_since(t0) / 1000,
             before_what);
  return last;
}

// `work(i)` for i in [0, n) on `threads` threads.
void parallel_for(long n, unsigned threads, const std::function<void(long)>& work) {
  std::atomic<long> next{0};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::max(1u, threads); ++t) {
    pool.emplace_back([&] {
      for (long i; (i = next++) < n;) work(i);
    });
  }
  for (auto& t : pool) t.join();
}

unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

// The VEs the benchmark made: stopped and destroyed at scope exit, whatever happened (errors
// ignored there: a VE stopped or destroyed already is the usual case), on all cores.
class ve_fleet {
 public:
  ~ve_fleet() { clear(); }
  void clear() {
    if (ves_.empty()) return;
    fmt::print(stderr, "  cleaning up {} VEs\n", ves_.size());
    parallel_for(static_cast<long>(ves_.size()), cores(), [&](long i) {
      (void)ves_[i].stop({.fast = true});
      (void)ves_[i].destroy();
    });
    ves_.clear();
  }
  std::vector<ovz::ve>& all() { return ves_; }

 private:
  std::vector<ovz::ve> ves_;
};

// ---- what is printed ----

row row_of(std::string name, const std::vector<double>& ms, std::string why_not = {}) {
  if (ms.empty()) return {std::move(name), {}, why_not.empty() ? "nothing measured" : why_not};
  return {std::move(name), summarize(ms), {}};
}

// The median of ms[from, to), 0-based, clamped to what there is.
std::optional<double> window_median(const std::vector<double>& ms, long from, long to) {
  from = std::max(0L, from);
  to = std::min(static_cast<long>(ms.size()), to);
  if (from >= to) return std::nullopt;
  return summarize({ms.begin() + from, ms.begin() + to}).median;
}

void print_memory(std::string_view who, const std::optional<kernel_memory>& d, long n) {
  if (!d) {
    fmt::print("{:<12} not measured\n", who);
    return;
  }
  auto per = [&](long kib) { return static_cast<double>(kib) / static_cast<double>(n); };
  fmt::print("{:<12} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}   ({:.1f} vmalloc)\n",
             who, per(d->sreclaimable), per(d->sunreclaim), per(d->kernel_stack),
             per(d->page_tables), per(d->percpu), per(d->total()), per(d->vmalloc));
}

// Start times: the k-th start (1-based) with the median of a window of ten around it.
struct start_point {
  std::string label;
  long index;  // 0-based
  long from, to;
};

void print_starts(const std::vector<double>& ms) {
  const long n = static_cast<long>(ms.size());
  std::vector<start_point> points;
  if (n >= 10) points.push_back({"10th", 9, 5, 15});
  if (n >= 100 && n != 100) points.push_back({"100th", 99, 95, 105});
  points.push_back({fmt::format("{}th (last)", n), n - 1, n - 10, n});
  fmt::print("\nstart of the k-th VE, ms: that start alone, and the median of a window of ten "
             "(k-4 … k+5; the last ten for the last)\n");
  for (const auto& p : points) {
    auto w = window_median(ms, p.from, p.to);
    fmt::print("  {:<14} {:>8.2f}   window {}–{}: {:>8.2f}\n", p.label, ms[p.index], p.from + 1,
               std::min(p.to, n), w.value_or(0));
  }
  const auto slowest = std::max_element(ms.begin(), ms.end());
  fmt::print("  slowest: the {}th, {:.2f}\n", slowest - ms.begin() + 1, *slowest);
  auto first = window_median(ms, 0, 10), last = window_median(ms, n - 10, n);
  if (first && last) {
    fmt::print("  median of the first 10 {:.2f}, of the last 10 {:.2f}: {:.2f}×\n", *first,
               *last, *last / *first);
  }
}

// ---- the VEs ----

struct ve_results {
  long wanted = 0, started = 0;
  std::string failure;  // why fewer than `wanted` ran, or empty
  std::vector<double> create_ms, start_ms, exec_ms, stop_ms_each;
  long exec_failures = 0;
  std::string first_exec_failure;
  std::optional<kernel_memory> memory;  // growth, all of them
  long tasks_per_ve = 0;
  long fds_held = 0;
  std::optional<double> stop_all_ms;
  long stop_failures = 0;
  std::string first_stop_failure;
  double destroy_all_ms = 0;
};

ve_results run_ves(const fs::path& root, long n) {
  ve_results r;
  r.wanted = n;
  ctid_source ids(root);
  ve_fleet fleet;
  auto& ves = fleet.all();
  ves.reserve(n);

  fmt::print(stderr, "  creating {} VEs\n", n);
  for (long i = 0; i < n && !interrupted; ++i) {
    auto v = ids.next();
    if (!v) {
      r.failure = fmt::format("VE {}: open: {}", i + 1, v.error().message());
      return r;
    }
    ves.push_back(*v);
    const auto t0 = clock_type::now();
    if (auto c = ves.back().create(); !c) {
      r.failure = fmt::format("VE {} ({}): create: {}", i + 1, v->id().str(), c.error().message());
      return r;
    }
    r.create_ms.push_back(ms_since(t0));
  }
  if (interrupted) return r;

  fmt::print(stderr, "  starting {} VEs\n", n);
  const long tasks_before = host_tasks();
  const auto before = settled_baseline("the first VE start");
  const long mem_total = meminfo()["MemTotal"];
  for (long i = 0; i < n && !interrupted; ++i) {
    // Stop short of starving the host: at 5 % available, no further VE is started.
    if (i % 50 == 0 && i > 0) {
      const long avail = meminfo()["MemAvailable"];
      if (avail < mem_total / 20) {
        r.failure = fmt::format("stopped at {} VEs: MemAvailable down to {} MiB", i,
                                avail / 1024);
        break;
      }
      fmt::print(stderr, "    {} running, last start {:.1f} ms\n", i, r.start_ms.back());
    }
    const auto t0 = clock_type::now();
    if (auto s = ves[i].start(); !s) {
      r.failure = fmt::format("VE {} ({}): start: {}", i + 1, ves[i].id().str(),
                              s.error().message());
      break;
    }
    r.start_ms.push_back(ms_since(t0));
    ++r.started;
  }
  if (r.started > 0 && !interrupted) {
    r.memory = settled_reading() - before;
    r.tasks_per_ve = (host_tasks() - tasks_before) / r.started;
    r.fds_held = open_fds();

    fmt::print(stderr, "  exec /bin/true in each of {} VEs\n", r.started);
    for (long i = 0; i < r.started && !interrupted; ++i) {
      const auto t0 = clock_type::now();
      auto e = ves[i].exec({"/bin/true"});
      const double ms = ms_since(t0);
      std::string why;
      if (!e) why = e.error().message();
      else if (e->exit_code != 0) why = fmt::format("/bin/true exited with {}", e->exit_code);
      if (why.empty()) {
        r.exec_ms.push_back(ms);
      } else if (r.exec_failures++ == 0) {
        r.first_exec_failure = fmt::format("{}: {}", ves[i].id().str(), why);
      }
    }
  }

  if (r.started > 0 && !interrupted) {
    fmt::print(stderr, "  stopping {} VEs on {} threads\n", r.started, cores());
    std::vector<double> each(r.started, -1);
    std::vector<std::string> why(r.started);
    const auto t0 = clock_type::now();
    parallel_for(r.started, cores(), [&](long i) {
      const auto t1 = clock_type::now();
      if (auto s = ves[i].stop({.fast = true}); !s) why[i] = s.error().message();
      else each[i] = ms_since(t1);
    });
    r.stop_all_ms = ms_since(t0);
    for (long i = 0; i < r.started; ++i) {
      if (each[i] >= 0) {
        r.stop_ms_each.push_back(each[i]);
      } else if (r.stop_failures++ == 0) {
        r.first_stop_failure = fmt::format("{}: {}", ves[i].id().str(), why[i]);
      }
    }
  }
  // Destroy (and stop what is still running): untimed in the goals, timed for the record.
  const auto t0 = clock_type::now();
  fleet.clear();
  r.destroy_all_ms = ms_since(t0);
  return r;
}

// ---- crun ----

struct crun_results {
  std::string failure;  // why fewer than wanted ran, or why none did
  long started = 0;
  std::vector<double> run_ms, delete_ms;
  std::optional<kernel_memory> memory;
  long tasks_per_container = 0;
};

crun_results run_crun(const fs::path& rootfs, long n) {
  crun_results r;
  auto exe = find_program("crun");
  if (!exe) {
    r.failure = "crun is not installed (apt-get install crun)";
    return r;
  }
  temp_dir bundle("ovz-density-bundle");
  if (!bundle.failure().empty()) {
    r.failure = bundle.failure();
    return r;
  }
  std::ofstream(bundle.path() / "config.json")
      << oci_config(rootfs, {.args = {"/bin/sleep", "1000000"}});
  hybrid_cgroup_fix fix;  // declared before the containers: they go first
  if (!fix.failure().empty()) {
    r.failure = fix.failure();
    return r;
  }
  std::vector<std::unique_ptr<oci_container>> containers;
  std::vector<std::string> names;
  fmt::print(stderr, "  crun run --detach × {}\n", n);
  const auto before = settled_baseline("the first crun run");
  const long tasks_before = host_tasks();
  for (long i = 0; i < n && !interrupted; ++i) {
    if (i % 100 == 0 && i > 0) {
      fmt::print(stderr, "    {} running, last run {:.1f} ms\n", i, r.run_ms.back());
    }
    names.push_back(fmt::format("ovz-density-{}-{}", ::getpid(), i));
    containers.push_back(std::make_unique<oci_container>(*exe, names.back()));
    auto t = run_command({*exe, "run", "--detach", "--bundle", bundle.path().string(),
                          names.back()});
    if (!t.failure.empty()) {
      r.failure = fmt::format("container {}: {}", i + 1, t.failure);
      break;
    }
    r.run_ms.push_back(t.ms);
    ++r.started;
  }
  if (r.started > 0 && !interrupted) {
    r.memory = settled_reading() - before;
    r.tasks_per_container = (host_tasks() - tasks_before) / r.started;
  }
  fmt::print(stderr, "  crun delete --force × {}\n", containers.size());
  for (std::size_t i = 0; i < containers.size(); ++i) {
    auto t = run_command({*exe, "delete", "--force", names[i]});
    if (t.failure.empty()) {
      containers[i]->deleted();
      r.delete_ms.push_back(t.ms);
    }
  }
  containers.clear();  // deletes, forcibly, what the loop could not
  return r;
}

// ---- report ----

void report(long n, const ve_results& v, const std::optional<crun_results>& c) {
  fmt::print("\n== {} VEs{}\n", n, c ? fmt::format(", then {} crun containers", n) : "");
  if (!v.failure.empty()) fmt::print("VEs: {} of {} started: {}\n", v.started, n, v.failure);
  if (c && !c->failure.empty()) {
    fmt::print("crun: {} of {} ran: {}\n", c->started, n, c->failure);
  }
  std::vector<row> rows = {
      row_of("ve create", v.create_ms),
      row_of("ve start", v.start_ms),
      row_of("ve exec /bin/true (all up)", v.exec_ms),
      row_of("ve stop --fast (each, in parallel)", v.stop_ms_each),
  };
  if (c) {
    rows.push_back(row_of("crun run --detach", c->run_ms, c->failure));
    rows.push_back(row_of("crun delete --force", c->delete_ms, c->failure));
  }
  print_table(rows);

  if (!v.start_ms.empty()) print_starts(v.start_ms);

  fmt::print("\nkernel memory per VE / container, KiB (growth of /proc/meminfo from before the "
             "first start to all running, / N)\n");
  fmt::print("{:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "", "SReclaim", "SUnreclm",
             "KStack", "PageTbl", "Percpu", "total");
  print_memory("VE", v.memory, std::max(1L, v.started));
  if (c) print_memory("crun", c->memory, std::max(1L, c->started));
  fmt::print("tasks per VE {}{}; descriptors held by this program with all VEs up {}\n",
             v.tasks_per_ve,
             c ? fmt::format(", per crun container {}", c->tasks_per_container) : "",
             v.fds_held);

  fmt::print("\ngoals\n");
  const bool all_up = v.started == n && v.failure.empty();
  fmt::print("{:<44} {} of {} running, {} answered exec   {}\n", "VEs at once, each answering exec",
             v.started, n, v.exec_ms.size(),
             all_up && v.exec_failures == 0 && static_cast<long>(v.exec_ms.size()) == n
                 ? "met"
                 : "MISSED");
  if (v.exec_failures) {
    fmt::print("  {} exec failures, the first: {}\n", v.exec_failures, v.first_exec_failure);
  }
  if (v.memory && c && c->memory) {
    const double ve_kib = static_cast<double>(v.memory->total()) / v.started;
    const double crun_kib = static_cast<double>(c->memory->total()) / c->started;
    fmt::print("{:<44} {:>7.1f} KiB vs {:.1f} KiB ({:.2f}×)   {}\n",
               "kernel memory per VE ≤ crun's per container", ve_kib, crun_kib, ve_kib / crun_kib,
               ve_kib <= crun_kib ? "met" : "MISSED");
  } else {
    fmt::print("{:<44} n/a\n", "kernel memory per VE ≤ crun's per container");
  }
  const long s = static_cast<long>(v.start_ms.size());
  auto tenth = window_median(v.start_ms, 5, 15), last = window_median(v.start_ms, s - 10, s);
  if (s >= 20 && tenth && last) {
    fmt::print("{:<44} {:>7.2f} ms vs {:.2f} ms ({:.2f}×)   goal ≤ 1.50×   {}\n",
               "N-th start ≤ 1.5 × 10th (window medians)", *last, *tenth, *last / *tenth,
               *last <= 1.5 * *tenth ? "met" : "MISSED");
  } else {
    fmt::print("{:<44} n/a (fewer than 20 starts)\n", "N-th start ≤ 1.5 × 10th (window medians)");
  }
  if (v.stop_all_ms) {
    fmt::print("{:<44} {:>7.2f} s on {} threads{}   goal ≤ 10 s   {}\n",
               fmt::format("stop --fast of all {}", v.started), *v.stop_all_ms / 1000, cores(),
               v.stop_failures ? fmt::format(", {} failed", v.stop_failures) : "",
               *v.stop_all_ms <= 10000 && v.stop_failures == 0 ? "met" : "MISSED");
    if (v.stop_failures) fmt::print("  the first failed stop: {}\n", v.first_stop_failure);
  } else {
    fmt::print("{:<44} n/a\n", "stop --fast of all");
  }
  fmt::print("(destroy of all, untimed in the goals: {:.2f} s)\n", v.destroy_all_ms / 1000);
}

}  // namespace

// RLIMIT_NOFILE is left as it is: the program holds a handful of descriptors however many VEs
// run (it prints how many), as ovz::ve keeps none open between calls.
int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr, "usage: ovz_density_bench [--ves N] [--root DIR] [--no-crun]\n"
                       "  --ves N      VEs (and crun containers) running at once (default 1000)\n"
                       "  --root DIR   state root for the VEs (default: a fresh directory "
                       "under /tmp, removed at the end)\n"
                       "  --no-crun    no crun containers to compare with\n");
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_density_bench: needs root (it starts VEs and containers)\n");
    return 1;
  }
  catch_interrupts();

  bench_state_root state(opts->root, "ovz-density-root");
  if (!state.failure().empty()) {
    fmt::print(stderr, "ovz_density_bench: {}\n", state.failure());
    return 1;
  }
  const fs::path& root = state.path();
  fmt::print("ovz_density_bench: {} VEs; state root {}; rootfs {}\n", opts->ves, root.string(),
             state.rootfs().string());
  for (const auto& p : host_check(opts->ves)) fmt::print("host: TOO SMALL? {}\n", p);
  std::fflush(stdout);

  auto v = run_ves(root, opts->ves);
  std::optional<crun_results> c;
  if (opts->crun && !interrupted) c = run_crun(state.rootfs(), opts->ves);
  report(opts->ves, v, c);
  if (interrupted) fmt::print("\ninterrupted: the numbers above are partial\n");
  std::fflush(stdout);

  return interrupted ? 128 + interrupted : 0;
}
