// ovz_density_bench: N busybox VEs running at once (1000 by default) — what each costs the
// kernel in memory next to a crun container, whether the last start is as quick as the
// early ones, and how long stopping them all takes. With --template, 200 Debian VEs from a
// distribution template instead, and what each costs in memory (density_distro.hpp). A
// benchmark, not a test: a missed goal is reported, never turned into an exit code.

#include "density_distro.hpp"
#include "density_support.hpp"

#include <ovz/ctid.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace ovz_bench;

// Per busybox VE, for the host check: the monitor, the init and the init's children (busybox
// init runs a few), with a margin; memory: a few MiB of kernel and user memory each.
constexpr long busybox_tasks_per_ve = 8;
constexpr long busybox_kib_per_ve = 8 * 1024;

struct options {
  std::optional<long> ves;  // none: 1000 busybox VEs, 200 from a template
  fs::path root;  // empty: a fresh directory under /tmp
  bool crun = true;
  fs::path tarball;  // --template: Debian VEs from it (density_distro.hpp)
  bool tune = false;
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
    } else if (a == "--template" && i + 1 < argc) {
      o.tarball = argv[++i];
    } else if (a == "--tune") {
      o.tune = true;
    } else {
      return std::nullopt;
    }
  }
  if (o.tune && o.tarball.empty()) return std::nullopt;
  return o;
}

// ---- the VEs ----

struct ve_results {
  long wanted = 0, started = 0;
  std::string failure;  // why fewer than `wanted` ran, or empty
  std::vector<double> create_ms, start_ms, exec_ms;
  long exec_failures = 0;
  std::string first_exec_failure;
  std::optional<kernel_memory> memory;  // growth, all of them
  long tasks_per_ve = 0;
  long fds_held = 0;
  stop_results stop;
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

  if (r.started > 0 && !interrupted) r.stop = stop_all_fast(ves, r.started);
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
      row_of("ve stop --fast (each, in parallel)", v.stop.each_ms),
  };
  if (c) {
    rows.push_back(row_of("crun run --detach", c->run_ms, c->failure));
    rows.push_back(row_of("crun delete --force", c->delete_ms, c->failure));
  }
  print_table(rows);

  if (!v.start_ms.empty()) print_starts(v.start_ms);

  fmt::print("\nkernel memory per VE / container, KiB (growth of /proc/meminfo from before the "
             "first start to all running, / N)\n");
  print_memory_header();
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
  print_start_goal(v.start_ms);
  print_stop_goal(v.stop, v.started);
  fmt::print("(destroy of all, untimed in the goals: {:.2f} s)\n", v.destroy_all_ms / 1000);
}

}  // namespace

// RLIMIT_NOFILE is left as it is: the program holds a handful of descriptors however many VEs
// run (it prints how many), as ovz::ve keeps none open between calls.
int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr,
               "usage: ovz_density_bench [--ves N] [--root DIR] [--no-crun]\n"
               "       ovz_density_bench --template TARBALL [--tune] [--ves N] [--root DIR]\n"
               "  --ves N             VEs (and crun containers) running at once (default 1000;\n"
               "                      200 with --template)\n"
               "  --root DIR          state root for the VEs (default: a fresh directory "
               "under /tmp, removed at the end)\n"
               "  --no-crun           no crun containers to compare with\n"
               "  --template TARBALL  Debian VEs (init, rsyslog, cron, sshd, apache2) from this\n"
               "                      template instead of busybox ones, each waited for until\n"
               "                      it serves; no crun comparison (tests/support/"
               "debian-templates\n"
               "                      OVZCTL sysv|systemd prints the tarball's path)\n"
               "  --tune              the template tuned by benchmarks/debian-density-tune "
               "first\n");
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_density_bench: needs root (it starts VEs and containers)\n");
    return 1;
  }
  if (!opts->tarball.empty()) {
    return run_distro_density(
        {.ves = opts->ves.value_or(200), .tarball = opts->tarball, .tune = opts->tune,
         .root = opts->root});
  }
  const long ves = opts->ves.value_or(1000);
  catch_interrupts();

  bench_state_root state(opts->root, "ovz-density-root");
  if (!state.failure().empty()) {
    fmt::print(stderr, "ovz_density_bench: {}\n", state.failure());
    return 1;
  }
  const fs::path& root = state.path();
  fmt::print("ovz_density_bench: {} VEs; state root {}; rootfs {}\n", ves, root.string(),
             state.rootfs().string());
  for (const auto& p : host_check(ves, busybox_tasks_per_ve, busybox_kib_per_ve)) {
    fmt::print("host: TOO SMALL? {}\n", p);
  }
  std::fflush(stdout);

  auto v = run_ves(root, ves);
  std::optional<crun_results> c;
  if (opts->crun && !interrupted) c = run_crun(state.rootfs(), ves);
  report(ves, v, c);
  if (interrupted) fmt::print("\ninterrupted: the numbers above are partial\n");
  std::fflush(stdout);

  return interrupted ? 128 + interrupted : 0;
}
