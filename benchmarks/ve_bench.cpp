// ovz_bench: what starting, entering and cycling a VE costs, measured next to what a user would
// otherwise reach for on the same root filesystem: crun and runc, and bare `unshare` as the
// floor every namespace-based tool pays. A benchmark, not a test: a missed goal is reported,
// never turned into an exit code.

#include "bench_support.hpp"

#include <ovz/ctid.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
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

row bench_ve_exec(ctid_source& ids, int runs) {
  std::string name = "ve exec";
  auto v = created_ve(ids);
  if (!v) return {name, {}, fmt::format("create: {}", v.error().message())};
  scratch_ve ve(*v);
  if (auto r = ve->start(); !r) return {name, {}, fmt::format("start: {}", r.error().message())};
  return measure(name, runs, [&]() -> timing {
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

// ---- report ----

struct results {
  row ve_run, ve_exec, ve_cycle, crun, runc, unshare;
};

void print_goals(const results& r) {
  fmt::print("\nmedians compared\n");
  print_ratio(r.ve_run, r.crun, 0.4);
  print_ratio(r.ve_run, r.runc, std::nullopt);
  print_ratio(r.ve_run, r.unshare, 1.5);
  if (r.ve_exec.s) {
    const double ms = r.ve_exec.s->median;
    fmt::print("{:<36} {:>7.3f} ms goal ≤ 1.50 ms   {}\n", r.ve_exec.name, ms,
               ms <= 1.5 ? "met" : "MISSED");
  } else {
    fmt::print("{:<36} n/a\n", r.ve_exec.name);
  }
}

struct options {
  int runs = 20;
  fs::path root;  // empty: a fresh directory under /tmp
};

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      auto runs = parse_runs(argv[++i]);
      if (!runs) return std::nullopt;
      o.runs = *runs;
    } else if (a == "--root" && i + 1 < argc) {
      o.root = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr, "usage: ovz_bench [--runs N] [--root STATE_ROOT]\n"
                       "  --runs N     timed runs per line (default 20, at least 1)\n"
                       "  --root DIR   state root for the VEs (default: a fresh directory "
                       "under /tmp, removed at the end)\n");
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_bench: needs root (it starts VEs and containers)\n");
    return 1;
  }
  catch_interrupts();

  std::optional<temp_dir> own_root;
  fs::path root;
  if (opts->root.empty()) {
    own_root.emplace("ovz-bench-root");
    if (!own_root->failure().empty()) {
      fmt::print(stderr, "ovz_bench: {}\n", own_root->failure());
      return 1;
    }
    root = own_root->path();
  } else {
    root = ovz::resolve_state_root(opts->root);
    std::error_code ec;
    fs::create_directories(root, ec);
  }

  auto rootfs = ovz::template_store(root).find(ovz::builtin_template);
  if (!rootfs) {
    fmt::print(stderr, "ovz_bench: the busybox template: {}\n", rootfs.error().message());
    return 1;
  }
  temp_dir bundle("ovz-bench-bundle");
  if (bundle.failure().empty()) {
    std::ofstream(bundle.path() / "config.json") << oci_config(rootfs->path);
  }
  fmt::print("ovz_bench: {} runs per line; state root {}; rootfs {}\n", opts->runs,
             root.string(), rootfs->path.string());
  std::fflush(stdout);

  results r;
  {
    ctid_source ids(root);
    r.ve_run = bench_ve_run(ids, opts->runs);
    r.ve_exec = bench_ve_exec(ids, opts->runs);
    r.ve_cycle = bench_ve_cycle(ids, opts->runs);
  }
  r.unshare = bench_unshare(opts->runs);
  // crun last: its cgroup workaround must not be in place while runc or a VE makes cgroups,
  // which could keep the borrowed hierarchy alive past its umount.
  if (!bundle.failure().empty()) {
    r.runc = {"runc run", {}, bundle.failure()};
    r.crun = {"crun run", {}, bundle.failure()};
  } else {
    r.runc = bench_oci_runtime("runc", bundle.path(), opts->runs);
    r.crun = bench_oci_runtime("crun", bundle.path(), opts->runs);
  }

  print_table({r.ve_run, r.ve_exec, r.ve_cycle, r.crun, r.runc, r.unshare});
  print_goals(r);

  if (own_root && has_mounts_below(root)) {
    fmt::print(stderr, "warning: something is still mounted under {}; left in place\n",
               root.string());
    own_root->keep();
  }
  return interrupted ? 128 + interrupted : 0;
}
