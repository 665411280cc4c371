// What the benchmark programs share: timing and its summary, the table they print, scratch
// directories and VEs that clean up after themselves, running a peer tool (crun, runc) as a
// user would, the OCI config given to it, the cgroup workaround crun needs on a hybrid host,
// the private network namespace that keeps a benchmark's packets on the machine, and asking a
// web server in a VE for its page.

#pragma once

#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ovz_bench {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

/// The SIGINT or SIGTERM received, if any: the runs stop early so that everything the
/// benchmark made is still cleaned up.
extern volatile std::sig_atomic_t interrupted;
/// Sets `interrupted` on SIGINT and SIGTERM instead of dying.
void catch_interrupts();

double ms_since(clock_type::time_point t0);
std::string errno_text(int e);
std::string read_file(const fs::path& p);
std::vector<std::string> words(std::string_view text);

/// One measured run: its wall time, or why it failed.
struct timing {
  double ms = 0;
  std::string failure;
};

timing failed(std::string why);

struct stats {
  double min, median, max;
};

/// One line of the table: the numbers, or why there are none.
struct row {
  std::string name;
  std::optional<stats> s;
  std::string failure;
};

stats summarize(std::vector<double> ms);

/// One untimed warm-up run first, so that the page cache, dentries and first-use setup of the
/// tool under test do not land in the numbers; then `runs` timed runs.
row measure(std::string name, int runs, const std::function<timing()>& once);

/// Several times from one run (say a start and the stop after it), one per name, or why not.
struct timings {
  std::vector<double> ms;
  std::string failure;
};

/// measure() for runs that time several things at once: one row per name.
std::vector<row> measure_each(std::vector<std::string> names, int runs,
                              const std::function<timings()>& once);

/// min / median / max in milliseconds, one line per row.
void print_table(const std::vector<row>& rows);
/// The ratio of the medians of `a` and `b`, against `goal` when there is one; the label
/// "a / b" is padded to `width` characters.
void print_ratio(const row& a, const row& b, std::optional<double> goal, std::size_t width = 36);

/// A fresh directory under /tmp, removed with its contents at scope exit.
class temp_dir {
 public:
  explicit temp_dir(std::string_view prefix);
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const fs::path& path() const { return path_; }
  const std::string& failure() const { return failure_; }
  /// Leaves the directory in place at scope exit.
  void keep() { path_.clear(); }

 private:
  fs::path path_;
  std::string failure_;
};

/// A benchmark's state root and the busybox template in it: `given` (made if missing), or a
/// fresh directory under /tmp, removed at scope exit unless something is still mounted below
/// it (then left in place for a person to look at, with a warning).
class bench_state_root {
 public:
  bench_state_root(const fs::path& given, std::string_view prefix);
  ~bench_state_root();
  bench_state_root(const bench_state_root&) = delete;
  bench_state_root& operator=(const bench_state_root&) = delete;

  const fs::path& path() const { return path_; }
  /// The built-in template's tree.
  const fs::path& rootfs() const { return rootfs_; }
  /// Why there is no usable root, or empty.
  const std::string& failure() const { return failure_; }

 private:
  std::optional<temp_dir> own_;
  fs::path path_, rootfs_;
  std::string failure_;
};

/// True when something is mounted at or below `dir`. Removing the directory would then reach
/// into whatever a failed stop left mounted, so it is left for a person to look at.
bool has_mounts_below(const fs::path& dir);

// ---- the peers: whole commands, timed as a user of the tool would see them ----

/// A whole number of at least 1 (`--mib N`, `--files N`).
std::optional<long> parse_count(std::string_view text);
/// The value of `--runs N`: a whole number of at least 1.
std::optional<int> parse_runs(std::string_view text);

/// The executable `name` from PATH, or from the sbin directories that a PATH without them
/// (sudo, some shells) still leaves runc in.
std::optional<std::string> find_program(std::string_view name);

/// Wall time of one command from posix_spawn to its reaping. stdout goes to /dev/null, or
/// into `out` when given; stderr is kept so that a failing tool can say why.
timing run_command(const std::vector<std::string>& argv, std::string* out = nullptr);

/// The status code of `GET /` from `ip` (dotted IPv4) port 80, or 0 when nothing answers
/// (yet): a refused connection fails at once, one that accepts and stalls after 1 s.
int http_status(const char* ip);

/// What differs between the OCI configs the benchmarks give crun and runc.
struct oci_options {
  std::vector<std::string> args{"/bin/true"};
  /// The process's bounding, effective, permitted and ambient sets.
  std::vector<std::string> capabilities{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  /// Writable tmpfs mounts over the read-only root, for what the process writes.
  std::vector<std::string> tmpfs{};
  /// A network namespace of its own; false: the caller's.
  bool own_network = true;
};

/// `crun spec` as crun 1.8 generates it, with `rootfs` read-only, no terminal and `o`'s
/// changes. One file for both runtimes keeps the comparison fair; runc's own default differs
/// only in a few more masked paths.
std::string oci_config(const fs::path& rootfs, const oci_options& o = {});

/// A container crun (or runc) was asked to run: deleted (forcibly) at scope exit unless
/// already gone.
class oci_container {
 public:
  oci_container(std::string runtime, std::string id)
      : runtime_(std::move(runtime)), id_(std::move(id)) {}
  ~oci_container() {
    if (!deleted_) (void)run_command({runtime_, "delete", "--force", id_});
  }
  oci_container(const oci_container&) = delete;
  oci_container& operator=(const oci_container&) = delete;

  void deleted() { deleted_ = true; }

 private:
  std::string runtime_, id_;
  bool deleted_ = false;
};

/// crun refuses a hybrid cgroup host (v1 hierarchies and a cgroup2 mount beside them) while
/// any controller is enabled on the cgroup2 side. Mounting each such controller as a v1
/// hierarchy of its own takes it off cgroup2 for as long as crun runs; the destructor gives it
/// back. On any other layout this does nothing. Nothing else may make cgroups meanwhile (a
/// cgroup in the borrowed hierarchy keeps it alive past its umount).
class hybrid_cgroup_fix {
 public:
  hybrid_cgroup_fix();
  ~hybrid_cgroup_fix();
  hybrid_cgroup_fix(const hybrid_cgroup_fix&) = delete;
  hybrid_cgroup_fix& operator=(const hybrid_cgroup_fix&) = delete;

  /// Why crun cannot run here, or empty.
  const std::string& failure() const { return failure_; }

 private:
  struct binding {
    std::string controller;
    std::string dir;
  };
  static void release(const binding& b);

  std::vector<binding> bound_;
  std::string failure_;
};

// ---- libovz ----

/// A VE the benchmark made: stopped and destroyed at scope exit, whatever happened in between.
/// Errors are ignored there: a VE already stopped or destroyed is the usual case.
class scratch_ve {
 public:
  explicit scratch_ve(ovz::ve v) : v_(std::move(v)) {}
  ~scratch_ve() {
    (void)v_.stop({.fast = true});
    (void)v_.destroy();
  }
  scratch_ve(const scratch_ve&) = delete;
  scratch_ve& operator=(const scratch_ve&) = delete;

  ovz::ve* operator->() { return &v_; }

 private:
  ovz::ve v_;
};

/// CTIDs for the benchmark's VEs, counting up past any VE already under the state root (when
/// --root names one in use).
class ctid_source {
 public:
  explicit ctid_source(fs::path root);
  ovz::result<ovz::ve> next();

 private:
  fs::path root_;
  std::set<std::uint32_t> taken_;
  std::uint32_t next_ = 1000;
};

/// Moves this process into a network namespace of its own, the stand-in host: `lo` up, with
/// 192.0.2.1/32 on it as the source address of routed (venet) traffic, so no packet leaves
/// the machine. Call it while the process has one thread. Returns why it failed, or empty.
std::string isolate_network();

}  // namespace ovz_bench
