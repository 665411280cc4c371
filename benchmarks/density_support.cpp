// The pieces ovz_density_bench's modes share; see density_support.hpp.

#include "density_support.hpp"

#include <fmt/core.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <sstream>
#include <system_error>
#include <thread>

namespace ovz_bench {

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

std::vector<std::string> host_check(long n, long tasks_per_ve, long kib_per_ve) {
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

kernel_memory kernel_memory::now() {
  auto m = meminfo();
  return {m["SReclaimable"], m["SUnreclaim"], m["KernelStack"], m["PageTables"], m["Percpu"],
          m["VmallocUsed"]};
}

kernel_memory kernel_memory::operator-(const kernel_memory& o) const {
  return {sreclaimable - o.sreclaimable, sunreclaim - o.sunreclaim,
          kernel_stack - o.kernel_stack, page_tables - o.page_tables, percpu - o.percpu,
          vmalloc - o.vmalloc};
}

kernel_memory settled_reading() {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return kernel_memory::now();
}

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

void ve_fleet::clear() {
  if (ves_.empty()) return;
  fmt::print(stderr, "  cleaning up {} VEs\n", ves_.size());
  parallel_for(static_cast<long>(ves_.size()), cores(), [&](long i) {
    (void)ves_[i].stop({.fast = true});
    (void)ves_[i].destroy();
  });
  ves_.clear();
}

stop_results stop_all_fast(std::vector<ovz::ve>& ves, long n) {
  stop_results r;
  fmt::print(stderr, "  stopping {} VEs on {} threads\n", n, cores());
  std::vector<double> each(n, -1);
  std::vector<std::string> why(n);
  const auto t0 = clock_type::now();
  parallel_for(n, cores(), [&](long i) {
    const auto t1 = clock_type::now();
    if (auto s = ves[i].stop({.fast = true}); !s) why[i] = s.error().message();
    else each[i] = ms_since(t1);
  });
  r.all_ms = ms_since(t0);
  for (long i = 0; i < n; ++i) {
    if (each[i] >= 0) {
      r.each_ms.push_back(each[i]);
    } else if (r.failures++ == 0) {
      r.first_failure = fmt::format("{}: {}", ves[i].id().str(), why[i]);
    }
  }
  return r;
}

row row_of(std::string name, const std::vector<double>& ms, std::string why_not) {
  if (ms.empty()) return {std::move(name), {}, why_not.empty() ? "nothing measured" : why_not};
  return {std::move(name), summarize(ms), {}};
}

std::optional<double> window_median(const std::vector<double>& ms, long from, long to) {
  from = std::max(0L, from);
  to = std::min(static_cast<long>(ms.size()), to);
  if (from >= to) return std::nullopt;
  return summarize({ms.begin() + from, ms.begin() + to}).median;
}

void print_memory_header() {
  fmt::print("{:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "", "SReclaim", "SUnreclm",
             "KStack", "PageTbl", "Percpu", "total");
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

namespace {

// The k-th (1-based) with the median of a window of ten around it.
struct start_point {
  std::string label;
  long index;  // 0-based
  long from, to;
};

}  // namespace

void print_starts(const std::vector<double>& ms, std::string_view what) {
  const long n = static_cast<long>(ms.size());
  std::vector<start_point> points;
  if (n >= 10) points.push_back({"10th", 9, 5, 15});
  if (n >= 100 && n != 100) points.push_back({"100th", 99, 95, 105});
  points.push_back({fmt::format("{}th (last)", n), n - 1, n - 10, n});
  fmt::print("\n{} of the k-th VE, ms: that {} alone, and the median of a window of ten "
             "(k-4 … k+5; the last ten for the last)\n",
             what, what);
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

void print_start_goal(const std::vector<double>& ms, std::string_view what) {
  const auto label = fmt::format("N-th {} ≤ 1.5 × 10th (window medians)", what);
  const long s = static_cast<long>(ms.size());
  auto tenth = window_median(ms, 5, 15), last = window_median(ms, s - 10, s);
  if (s >= 20 && tenth && last) {
    fmt::print("{:<44} {:>7.2f} ms vs {:.2f} ms ({:.2f}×)   goal ≤ 1.50×   {}\n", label, *last,
               *tenth, *last / *tenth, *last <= 1.5 * *tenth ? "met" : "MISSED");
  } else {
    fmt::print("{:<44} n/a (fewer than 20 starts)\n", label);
  }
}

void print_stop_goal(const stop_results& s, long started) {
  if (s.all_ms) {
    fmt::print("{:<44} {:>7.2f} s on {} threads{}   goal ≤ 10 s   {}\n",
               fmt::format("stop --fast of all {}", started), *s.all_ms / 1000, cores(),
               s.failures ? fmt::format(", {} failed", s.failures) : "",
               *s.all_ms <= 10000 && s.failures == 0 ? "met" : "MISSED");
    if (s.failures) fmt::print("  the first failed stop: {}\n", s.first_failure);
  } else {
    fmt::print("{:<44} n/a\n", "stop --fast of all");
  }
}

}  // namespace ovz_bench
