// What ovz_density_bench's two modes share (busybox VEs by the thousand, Debian VEs from a
// distribution template): the host's memory and task counts, the kernel memory /proc/meminfo
// shows, waiting for it to settle, the VEs made (stopped and destroyed whatever happens),
// and the pieces of the report both print.

#pragma once

#include "bench_support.hpp"

#include <ovz/ve.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz_bench {

/// /proc/meminfo, in KiB.
std::map<std::string, long> meminfo();
/// A file holding one number; -1 when it does not.
long read_long(const fs::path& p);
/// Tasks (threads) on the host now.
long host_tasks();
/// Descriptors this program holds now.
long open_fds();

/// Whether the host can take `n` VEs of `tasks_per_ve` tasks and `kib_per_ve` KiB each
/// (generous estimates): the lines to print when it cannot (or might not).
std::vector<std::string> host_check(long n, long tasks_per_ve, long kib_per_ve);

/// The kernel memory /proc/meminfo shows, in KiB: what the benchmark divides by N.
struct kernel_memory {
  long sreclaimable = 0, sunreclaim = 0, kernel_stack = 0, page_tables = 0, percpu = 0;
  long vmalloc = 0;  // shown beside, not in the total: it holds the (vmapped) kernel stacks too

  static kernel_memory now();
  long total() const { return sreclaimable + sunreclaim + kernel_stack + page_tables + percpu; }
  kernel_memory operator-(const kernel_memory& o) const;
};

/// The reading after all are up: a second for what is freed after an RCU grace period, or by
/// a worker, to go.
kernel_memory settled_reading();
/// The reading once the kernel memory stops moving (what the step before freed after a grace
/// period or in a worker: removed cgroups above all), so that it does not land in the next
/// step's growth: two readings a second apart within 256 KiB, for at most 30 s.
kernel_memory settled_baseline(std::string_view before_what);

/// `work(i)` for i in [0, n) on `threads` threads.
void parallel_for(long n, unsigned threads, const std::function<void(long)>& work);
unsigned cores();

/// The VEs the benchmark made: stopped and destroyed at scope exit, whatever happened (errors
/// ignored there: a VE stopped or destroyed already is the usual case), on all cores.
class ve_fleet {
 public:
  ~ve_fleet() { clear(); }
  void clear();
  std::vector<ovz::ve>& all() { return ves_; }

 private:
  std::vector<ovz::ve> ves_;
};

/// What a parallel stop --fast of the first `n` VEs took: the wall time of all, each one's,
/// and the failures.
struct stop_results {
  std::optional<double> all_ms;
  std::vector<double> each_ms;
  long failures = 0;
  std::string first_failure;
};
stop_results stop_all_fast(std::vector<ovz::ve>& ves, long n);

// ---- what is printed ----

row row_of(std::string name, const std::vector<double>& ms, std::string why_not = {});
/// The median of ms[from, to), 0-based, clamped to what there is.
std::optional<double> window_median(const std::vector<double>& ms, long from, long to);
/// One line of kernel memory per VE (`d` / n), KiB by component.
void print_memory(std::string_view who, const std::optional<kernel_memory>& d, long n);
/// The column heads print_memory's lines go under.
void print_memory_header();
/// Start times (`what`: "start", "start→ready"): the 10th, 100th and last each alone and as
/// the median of a window of ten, the slowest, and the first ten against the last ten.
void print_starts(const std::vector<double>& ms, std::string_view what = "start");
/// The goal lines both modes have: the N-th start against the 10th, and the stop of all.
void print_start_goal(const std::vector<double>& ms, std::string_view what = "start");
void print_stop_goal(const stop_results& s, long started);

}  // namespace ovz_bench
