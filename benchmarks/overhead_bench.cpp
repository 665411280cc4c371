// ovz_overhead_bench: what being in a VE costs a program, against the same program on the host:
// a CPU-bound and a syscall-bound workload (ovz_workload), each timing its own loop, so that
// starting it is not in the numbers. A benchmark, not a test: a missed goal is reported, never
// turned into an exit code.

#include "bench_support.hpp"

#include <ovz/fd.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace ovz_bench;

constexpr const char* workload_in_ve = "/ovz_workload";

struct options {
  int runs = 10;
  long cpu = 300'000'000;    // xorshift rounds: about a second here
  long syscalls = 3'000'000;  // getppid() calls: about a second here
};

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      auto runs = parse_runs(argv[++i]);
      if (!runs) return std::nullopt;
      o.runs = *runs;
    } else if ((a == "--cpu" || a == "--syscalls") && i + 1 < argc) {
      auto n = parse_count(argv[++i]);
      if (!n) return std::nullopt;
      (a == "--cpu" ? o.cpu : o.syscalls) = *n;
    } else {
      return std::nullopt;
    }
  }
  return o;
}

// The loop's time the workload printed, in ms, or why there is none.
timing loop_time(const std::string& out, const std::string& where) {
  long long ns = 0;
  auto [end, ec] = std::from_chars(out.data(), out.data() + out.size(), ns);
  if (ec != std::errc{} || ns <= 0) return failed(fmt::format("{}: ovz_workload printed \"{}\"",
                                                               where, out));
  return {static_cast<double>(ns) / 1e6, {}};
}

timing on_host(const std::string& kind, long n) {
  std::string out;
  auto t = run_command({OVZ_WORKLOAD, kind, std::to_string(n)}, &out);
  if (!t.failure.empty()) return t;
  return loop_time(out, "host");
}

timing in_ve(ovz::ve& v, const std::string& kind, long n) {
  auto r = v.exec({workload_in_ve, kind, std::to_string(n)});
  if (!r) return failed(fmt::format("exec: {}", r.error().message()));
  if (r->exit_code != 0) return failed(fmt::format("ovz_workload in the VE: {}", r->err));
  return loop_time(r->out, "VE");
}

// Created (with `security` applied), started, and the workload copied in through the VE's own
// shell (exec's stdin is a descriptor, so nothing on the host follows a path into its tree).
std::string prepare(ovz::ve& v, const ovz::security_changes& security) {
  if (auto r = v.create(); !r) return fmt::format("create: {}", r.error().message());
  if (auto r = v.set_security(security, true); !r) {
    return fmt::format("set_security: {}", r.error().message());
  }
  if (auto r = v.start(); !r) return fmt::format("start: {}", r.error().message());
  ovz::unique_fd prog(::open(OVZ_WORKLOAD, O_RDONLY | O_CLOEXEC));
  if (!prog) return fmt::format("open {}: {}", OVZ_WORKLOAD, errno_text(errno));
  auto r = v.exec({"/bin/sh", "-c", fmt::format("cat > {0} && chmod 755 {0}", workload_in_ve)},
                  {.stdin_fd = prog.get()});
  if (!r) return fmt::format("exec: {}", r.error().message());
  if (r->exit_code != 0) return fmt::format("copying ovz_workload in: {}", r->err);
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr, "usage: ovz_overhead_bench [--runs N] [--cpu N] [--syscalls N]\n"
                       "  --runs N      timed runs of each workload (default 10)\n"
                       "  --cpu N       xorshift rounds of the CPU-bound workload\n"
                       "  --syscalls N  getppid() calls of the syscall-bound one\n");
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_overhead_bench: needs root (it starts a VE)\n");
    return 1;
  }
  catch_interrupts();
  temp_dir root("ovz-overhead-root");
  if (!root.failure().empty()) {
    fmt::print(stderr, "ovz_overhead_bench: {}\n", root.failure());
    return 1;
  }
  ctid_source ids(root.path());
  auto v = ids.next();
  if (!v) {
    fmt::print(stderr, "ovz_overhead_bench: {}\n", v.error().message());
    return 1;
  }
  auto plain = ids.next();
  if (!plain) {
    fmt::print(stderr, "ovz_overhead_bench: {}\n", plain.error().message());
    return 1;
  }
  std::vector<row> rows;
  {
    scratch_ve ve(*v), unconfined(*plain);
    // The second VE without a seccomp filter: the kernel's seccomp entry path costs every
    // system call of a filtered process, whatever the filter says (see the README).
    std::string why = prepare(*v, {});
    if (why.empty()) why = prepare(*plain, {.seccomp_profile = "unconfined"});
    const std::vector<std::string> names = {
        "cpu-bound: host", "cpu-bound: in a VE", "syscall-bound: host",
        "syscall-bound: in a VE", "syscall-bound: in a VE without seccomp"};
    if (!why.empty()) {
      for (const auto& n : names) rows.push_back({n, {}, why});
    } else {
      // Host and VEs take turns, the host first and last by turns, so that a drift of the
      // machine's speed touches all alike.
      int run = 0;
      rows = measure_each(names, opts->runs, [&]() -> timings {
        const bool host_first = run++ % 2 == 0;
        std::vector<timing> t(5);
        for (int k : host_first ? std::vector{0, 1, 2, 3, 4} : std::vector{1, 0, 4, 3, 2}) {
          t[k] = k == 0   ? on_host("cpu", opts->cpu)
                 : k == 1 ? in_ve(*v, "cpu", opts->cpu)
                 : k == 2 ? on_host("syscalls", opts->syscalls)
                 : k == 3 ? in_ve(*v, "syscalls", opts->syscalls)
                          : in_ve(*plain, "syscalls", opts->syscalls);
          if (!t[k].failure.empty()) return {{}, t[k].failure};
        }
        std::vector<double> ms;
        for (const auto& x : t) ms.push_back(x.ms);
        return {ms, {}};
      });
    }
  }
  print_table(rows);
  fmt::print("\nmedians compared\n");
  print_ratio(rows[1], rows[0], 1.01, 62);
  print_ratio(rows[3], rows[2], 1.01, 62);
  print_ratio(rows[4], rows[2], 1.01, 62);
  return interrupted ? 128 + interrupted : 0;
}
