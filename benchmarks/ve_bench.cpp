// ovz_bench: what starting, entering and cycling a VE costs, measured next to what a user would
// otherwise reach for on the same root filesystem: crun and runc, and bare `unshare` as the
// floor every namespace-based tool pays. A benchmark, not a test: a missed goal is reported,
// never turned into an exit code.

#include "bench_support.hpp"

#include <ovz/ctid.hpp>
#include <ovz/host.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using namespace ovz_bench;

// ---- the peers ----

row bench_oci_runtime(const std::string& tool, const fs::path& bundle, int runs) {
  std::string name = tool + " run";
  auto exe = find_program(tool);
  if (!exe) return {name, {}, fmt::format("{} is not installed (apt-get install {})", tool, tool)};
  std::optional<hybrid_cgroup_fix> fix;  // runc copes with a hybrid host; crun only with this
  if (tool == "crun") {
    fix.emplace();
    if (!fix->failure().empty()) return {name, {}, fix->failure()};
  }
  int n = 0;
  return measure(name, runs, [&] {
    return run_command({*exe, "run", "--bundle", bundle.string(),
                        fmt::format("ovz-bench-{}-{}", ::getpid(), n++)});
  });
}

row bench_unshare(int runs) {
  std::string name = "unshare -fpmuin";
  auto exe = find_program("unshare");
  if (!exe) return {name, {}, "unshare (util-linux) is not installed"};
  return measure(name, runs, [&] { return run_command({*exe, "-fpmuin", "/bin/true"}); });
}

// ---- libovz ----

// A created VE, or why not.
ovz::result<ovz::ve> created_ve(ctid_source& ids) {
  auto v = ids.next();
  if (!v) return v;
  if (auto r = v->create(); !r) return r.error();
  return v;
}

row bench_ve_run(ctid_source& ids, int runs) {
  std::string name = "ve start→exit";
  auto v = created_ve(ids);
  if (!v) return {name, {}, fmt::format("create: {}", v.error().message())};
  scratch_ve ve(*v);
  return measure(name, runs, [&]() -> timing {
    const auto t0 = clock_type::now();
    auto code = ve->run({"/bin/true"});
    const double ms = ms_since(t0);
    if (!code) return failed(fmt::format("run: {}", code.error().message()));
    if (*code != 0) return failed(fmt::format("/bin/true in the VE exited with {}", *code));
    return {ms, {}};
  });
}

// With `held_mib`, from a caller as large as an embedding one (a panel, a Python interpreter
// with its data): that much memory it has written, and writes again between calls, as a busy
// process does. A spawn that forked the caller would copy its page tables and fault on each
// page written after.
row bench_ve_exec(ctid_source& ids, int runs, std::size_t held_mib = 0) {
  std::string name = held_mib ? fmt::format("ve exec, caller holding {} MiB", held_mib) : "ve exec";
  std::vector<char> held(held_mib << 20, 1);
  auto v = created_ve(ids);
  if (!v) return {name, {}, fmt::format("create: {}", v.error().message())};
  scratch_ve ve(*v);
  if (auto r = ve->start(); !r) return {name, {}, fmt::format("start: {}", r.error().message())};
  return measure(name, runs, [&]() -> timing {
    for (std::size_t i = 0; i < held.size(); i += 4096) ++held[i];
    const auto t0 = clock_type::now();
    auto r = ve->exec({"/bin/true"});
    const double ms = ms_since(t0);
    if (!r) return failed(fmt::format("exec: {}", r.error().message()));
    if (r->exit_code != 0) return failed(fmt::format("/bin/true exited with {}", r->exit_code));
    return {ms, {}};
  });
}

// The stop is the fast one: a polite stop waits out the template's init shutting down (busybox
// init sleeps a second or two), which says nothing about libovz.
row bench_ve_cycle(ctid_source& ids, int runs) {
  return measure("ve cycle", runs, [&]() -> timing {
    auto v = ids.next();
    if (!v) return failed(fmt::format("open: {}", v.error().message()));
    scratch_ve ve(*v);
    const auto t0 = clock_type::now();
    if (auto r = ve->create(); !r) return failed(fmt::format("create: {}", r.error().message()));
    if (auto r = ve->start(); !r) return failed(fmt::format("start: {}", r.error().message()));
    if (auto r = ve->stop({.fast = true}); !r) {
      return failed(fmt::format("stop: {}", r.error().message()));
    }
    if (auto r = ve->destroy(); !r) return failed(fmt::format("destroy: {}", r.error().message()));
    return {ms_since(t0), {}};
  });
}

// ---- the command line: whole commands, as a shell script or a panel shelling out sees them ----

// A C program that does nothing: what starting any program costs here.
row bench_c_program(int runs) {
  return measure("/bin/true", runs, [] { return run_command({"/bin/true"}); });
}

row bench_ovzctl_help(int runs) {
  return measure("ovzctl --help", runs, [] { return run_command({OVZCTL, "--help"}); });
}

row bench_ovzctl_exec(ctid_source& ids, const fs::path& root, int runs) {
  std::string name = "ovzctl exec CT /bin/true";
  auto v = created_ve(ids);
  if (!v) return {name, {}, fmt::format("create: {}", v.error().message())};
  scratch_ve ve(*v);
  if (auto r = ve->start(); !r) return {name, {}, fmt::format("start: {}", r.error().message())};
  const auto ctid = v->id().str();
  return measure(name, runs, [&] {
    return run_command({OVZCTL, "--root", root.string(), "exec", ctid, "/bin/true"});
  });
}

// The stop is the fast one, as in `ve cycle`.
row bench_ovzctl_start_stop(ctid_source& ids, const fs::path& root, int runs) {
  std::string name = "ovzctl start + stop --fast";
  auto v = created_ve(ids);
  if (!v) return {name, {}, fmt::format("create: {}", v.error().message())};
  scratch_ve ve(*v);
  const auto ctid = v->id().str();
  return measure(name, runs, [&]() -> timing {
    auto start = run_command({OVZCTL, "--root", root.string(), "start", ctid});
    if (!start.failure.empty()) return start;
    auto stop = run_command({OVZCTL, "--root", root.string(), "stop", ctid, "--fast"});
    if (!stop.failure.empty()) return stop;
    return {start.ms + stop.ms, {}};
  });
}

// `crun exec` into a container crun runs detached (busybox sleep as its process).
row bench_oci_exec(const std::string& tool, const fs::path& rootfs, int runs) {
  std::string name = tool + " exec ID /bin/true";
  auto exe = find_program(tool);
  if (!exe) return {name, {}, fmt::format("{} is not installed (apt-get install {})", tool, tool)};
  temp_dir bundle("ovz-bench-exec-bundle");
  if (!bundle.failure().empty()) return {name, {}, bundle.failure()};
  std::ofstream(bundle.path() / "config.json")
      << oci_config(rootfs, {.args = {"/bin/sleep", "1000000"}});
  std::optional<hybrid_cgroup_fix> fix;
  if (tool == "crun") {
    fix.emplace();
    if (!fix->failure().empty()) return {name, {}, fix->failure()};
  }
  const auto id = fmt::format("ovz-bench-exec-{}", ::getpid());
  oci_container c(*exe, id);
  auto started = run_command({*exe, "run", "--detach", "--bundle", bundle.path().string(), id});
  if (!started.failure.empty()) return {name, {}, started.failure};
  return measure(name, runs, [&] { return run_command({*exe, "exec", id, "/bin/true"}); });
}

// ---- report ----

// Every line measured in one state of the host.
struct results {
  row ve_run, ve_exec, ve_exec_large, ve_cycle, ovzctl_exec, ovzctl_start_stop, crun, crun_exec,
      runc, unshare;
};

void print_goals(const results& r) {
  fmt::print("\nmedians compared\n");
  print_ratio(r.ve_run, r.crun, 0.4, 44);
  print_ratio(r.ve_run, r.runc, std::nullopt, 44);
  print_ratio(r.ve_run, r.unshare, 1.5, 44);
  print_ratio(r.ovzctl_exec, r.crun_exec, 0.5, 44);
  print_ratio(r.ovzctl_start_stop, r.crun, 0.5, 44);
  if (r.ve_exec.s) {
    const double ms = r.ve_exec.s->median;
    fmt::print("{:<44} {:>7.3f} ms goal ≤ 1.50 ms   {}\n", r.ve_exec.name, ms,
               ms <= 1.5 ? "met" : "MISSED");
  } else {
    fmt::print("{:<44} n/a\n", r.ve_exec.name);
  }
}

struct options {
  int runs = 20;
  int cycles = 1000;  // VE cycles before the last round; 0: no such round
  bool tune = true;   // tune_host() between the first round and the second
  fs::path root;      // empty: a fresh directory under /tmp
};

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      auto runs = parse_runs(argv[++i]);
      if (!runs) return std::nullopt;
      o.runs = *runs;
    } else if (a == "--cycles" && i + 1 < argc) {
      auto n = parse_count(argv[++i]);
      if (!n && std::string_view(argv[i]) != "0") return std::nullopt;
      o.cycles = n ? static_cast<int>(*n) : 0;
    } else if (a == "--no-tune") {
      o.tune = false;
    } else if (a == "--root" && i + 1 < argc) {
      o.root = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  return o;
}

// One round: every line, in the host's present state. crun last: its cgroup workaround must not
// be in place while runc or a VE makes cgroups, which could keep the borrowed hierarchy alive
// past its umount.
results measure_round(const fs::path& root, const fs::path& rootfs, const temp_dir& bundle,
                      int runs) {
  results r;
  {
    ctid_source ids(root);
    r.ve_run = bench_ve_run(ids, runs);
    r.ve_exec = bench_ve_exec(ids, runs);
    r.ve_exec_large = bench_ve_exec(ids, runs, 512);
    r.ve_cycle = bench_ve_cycle(ids, runs);
    r.ovzctl_exec = bench_ovzctl_exec(ids, root, runs);
    r.ovzctl_start_stop = bench_ovzctl_start_stop(ids, root, runs);
  }
  r.unshare = bench_unshare(runs);
  if (!bundle.failure().empty()) {
    r.runc = {"runc run", {}, bundle.failure()};
    r.crun = {"crun run", {}, bundle.failure()};
  } else {
    r.runc = bench_oci_runtime("runc", bundle.path(), runs);
    r.crun = bench_oci_runtime("crun", bundle.path(), runs);
  }
  r.crun_exec = bench_oci_exec("crun", rootfs, runs);
  return r;
}

void print_round(std::string_view title, const results& r) {
  fmt::print("\n== {}\n", title);
  print_table({r.ve_run, r.ve_exec, r.ve_exec_large, r.ve_cycle, r.ovzctl_exec,
               r.ovzctl_start_stop, r.crun, r.crun_exec, r.runc, r.unshare});
  print_goals(r);
  std::fflush(stdout);
}

// What the kernel's cgroup core does with the first move of a new process into a cgroup: wait
// for an RCU grace period, unless favordynmods is set on the cgroup2 root.
std::string favordynmods_state() {
  std::istringstream in(read_file("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    auto f = words(line.substr(dash + 3));
    if (f.size() < 3) continue;
    return ("," + f[2] + ",").find(",favordynmods,") != std::string::npos ? "favordynmods on"
                                                                         : "favordynmods off";
  }
  return "no cgroup2 mount";
}

// `n` create → start → stop --fast → destroy cycles of fresh VEs, untimed: the kernel keeps
// removed cgroups (memory ones above all) for a while, and starts were seen to slow down.
std::string age_host(const fs::path& root, int n) {
  ctid_source ids(root);
  for (int i = 0; i < n && !interrupted; ++i) {
    auto v = ids.next();
    if (!v) return fmt::format("cycle {}: {}", i, v.error().message());
    scratch_ve ve(*v);
    if (auto r = ve->create(); !r) return fmt::format("cycle {}: create: {}", i, r.error().message());
    if (auto r = ve->start(); !r) return fmt::format("cycle {}: start: {}", i, r.error().message());
    if (auto r = ve->stop({.fast = true}); !r) {
      return fmt::format("cycle {}: stop: {}", i, r.error().message());
    }
    if (auto r = ve->destroy(); !r) {
      return fmt::format("cycle {}: destroy: {}", i, r.error().message());
    }
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr, "usage: ovz_bench [--runs N] [--cycles N] [--no-tune] [--root DIR]\n"
                       "  --runs N     timed runs per line (default 20, at least 1)\n"
                       "  --cycles N   VE cycles run before the last round (default 1000; 0: "
                       "no such round)\n"
                       "  --no-tune    no round after ovz::tune_host()\n"
                       "  --root DIR   state root for the VEs (default: a fresh directory "
                       "under /tmp, removed at the end)\n");
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_bench: needs root (it starts VEs and containers)\n");
    return 1;
  }
  catch_interrupts();

  bench_state_root state(opts->root, "ovz-bench-root");
  if (!state.failure().empty()) {
    fmt::print(stderr, "ovz_bench: {}\n", state.failure());
    return 1;
  }
  const fs::path& root = state.path();
  temp_dir bundle("ovz-bench-bundle");
  if (bundle.failure().empty()) {
    std::ofstream(bundle.path() / "config.json") << oci_config(state.rootfs());
  }
  fmt::print("ovz_bench: {} runs per line; state root {}; rootfs {}\n", opts->runs,
             root.string(), state.rootfs().string());
  std::fflush(stdout);

  fmt::print("/bin/true and ovzctl --help (no VE: the same in every round)\n");
  print_table({bench_c_program(opts->runs), bench_ovzctl_help(opts->runs)});
  std::fflush(stdout);

  print_round(fmt::format("the host as it is ({})", favordynmods_state()),
              measure_round(root, state.rootfs(), bundle, opts->runs));
  if (opts->tune && !interrupted) {
    auto tuned = ovz::tune_host();
    if (!tuned) {
      fmt::print("\ntune_host: {}\n", tuned.error().message());
    } else if (*tuned) {
      print_round(fmt::format("after tune_host ({})", favordynmods_state()),
                  measure_round(root, state.rootfs(), bundle, opts->runs));
    } else {
      fmt::print("\n(the host was tuned already: no second round)\n");
    }
  }
  if (opts->cycles > 0 && !interrupted) {
    const auto t0 = clock_type::now();
    if (auto why = age_host(root, opts->cycles); !why.empty()) {
      fmt::print("\n{} VE cycles: {}\n", opts->cycles, why);
    } else {
      print_round(fmt::format("after {} VE cycles ({:.0f} s; {})", opts->cycles,
                              ms_since(t0) / 1000, favordynmods_state()),
                  measure_round(root, state.rootfs(), bundle, opts->runs));
    }
  }

  return interrupted ? 128 + interrupted : 0;
}
