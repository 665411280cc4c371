// ovz_distro_bench: how long a real distribution takes to serve and to shut down in a VE. For a
// Debian 12 template with sysvinit and one with systemd (both with apache2), each run creates
// a VE, gives it a routed address, starts it and asks for / on port 80 until the answer is
// 200, timed from the create; then stops it the default way (its init's own shutdown, the
// daemons' stop scripts run) timed on its own, and destroys it. Beside them, where it
// applies: crun running apache2 alone (no init) from the sysvinit template's tree. A
// benchmark, not a test: it asserts no time.
//
// It runs in a network namespace of its own (made first, while it has one thread), the
// stand-in host, so no packet leaves the machine.

#include "bench_support.hpp"

#include <ovz/ctid.hpp>
#include <ovz/network.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace ovz_bench;
using namespace std::chrono_literals;

// The VE's routed address; one VE exists at a time.
constexpr const char* ve_address = "10.199.0.1";
// How long a VE or container may take to answer 200 before the run counts as failed.
constexpr auto http_deadline = 60s;

// Asks `ip` for / until it answers 200: the time since `t0`, or why it did not.
timing until_http_200(const char* ip, clock_type::time_point t0) {
  int last = 0;
  while (clock_type::now() - t0 < http_deadline) {
    if (interrupted) return failed("interrupted");
    last = http_status(ip);
    if (last == 200) return {ms_since(t0), {}};
    std::this_thread::sleep_for(2ms);
  }
  return failed(fmt::format("no HTTP 200 from {}:80 within {} s (last answer: {})", ip,
                            http_deadline.count(), last ? std::to_string(last) : "none"));
}

// ---- libovz ----

// create → address → start → HTTP 200, then the default (clean) stop; destroy untimed.
std::vector<row> bench_ve(ctid_source& ids, const std::string& flavour, const std::string& tmpl,
                          int runs) {
  auto address = ovz::ip_address::parse(ve_address);
  return measure_each(
      {fmt::format("{} VE create→HTTP 200", flavour), fmt::format("{} VE clean stop", flavour)},
      runs, [&]() -> timings {
        if (!address) return {{}, fmt::format("{}: {}", ve_address, address.error().message())};
        auto v = ids.next();
        if (!v) return {{}, fmt::format("open: {}", v.error().message())};
        scratch_ve ve(*v);
        const auto t0 = clock_type::now();
        if (auto r = ve->create({.ostemplate = tmpl}); !r) {
          return {{}, fmt::format("create: {}", r.error().message())};
        }
        if (auto r = ve->add_ip(*address, true); !r) {
          return {{}, fmt::format("add_ip: {}", r.error().message())};
        }
        if (auto r = ve->start(); !r) return {{}, fmt::format("start: {}", r.error().message())};
        auto up = until_http_200(ve_address, t0);
        if (!up.failure.empty()) return {{}, std::move(up.failure)};
        const auto t1 = clock_type::now();
        if (auto r = ve->stop(); !r) return {{}, fmt::format("stop: {}", r.error().message())};
        const double stop_ms = ms_since(t1);
        if (auto r = ve->destroy(); !r) {
          return {{}, fmt::format("destroy: {}", r.error().message())};
        }
        return {{up.ms, stop_ms}, {}};
      });
}

// ---- crun: apache2 alone from the same tree ----

// Docker's default capabilities: what apache needs to bind port 80, open its logs as root
// and then become www-data.
const std::vector<std::string> container_capabilities = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",           "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID", "CAP_SETFCAP",          "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

// apache2 as the container's PID 1, in the foreground, set up as Debian's apache2ctl would
// (envvars, its run and lock directories); the tree stays read-only, what apache writes goes
// to tmpfs mounts. /var/lock is a link to /run/lock, which an init would have made.
std::string apache_config(const fs::path& rootfs) {
  return oci_config(
      rootfs, {.args = {"/bin/sh", "-c",
                        ". /etc/apache2/envvars && "
                        "mkdir -p /run/lock \"$APACHE_RUN_DIR\" \"$APACHE_LOCK_DIR\" \"$APACHE_LOG_DIR\" && "
                        "exec /usr/sbin/apache2 -D FOREGROUND"},
               .capabilities = container_capabilities,
               .tmpfs = {"/run", "/tmp", "/var/log/apache2"},
               .own_network = false});
}

// Waits until `pid` (not our child: crun's) has exited.
std::string wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH ? "" : fmt::format("pidfd_open {}: {}", pid, errno_text(errno));
  pollfd p{fd, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, static_cast<int>(limit.count()))) < 0 && errno == EINTR) {
  }
  ::close(fd);
  return n == 1 ? "" : fmt::format("apache (pid {}) still runs {} ms after SIGTERM", pid,
                                   limit.count());
}

// `crun run -d` → HTTP 200 on the stand-in host's loopback; then `crun kill TERM` → exit →
// `crun delete`. SIGTERM is what apache's own init script sends (apache2ctl stop).
std::vector<row> bench_crun(const fs::path& rootfs, int runs) {
  std::vector<std::string> names = {"crun apache run→HTTP 200", "crun apache stop"};
  auto no_numbers = [&](const std::string& why) {
    return std::vector<row>{{names[0], {}, why}, {names[1], {}, why}};
  };
  auto exe = find_program("crun");
  if (!exe) return no_numbers("crun is not installed (apt-get install crun)");
  temp_dir bundle("ovz-distro-bench-bundle");
  if (!bundle.failure().empty()) return no_numbers(bundle.failure());
  std::ofstream(bundle.path() / "config.json") << apache_config(rootfs);
  const auto pid_file = bundle.path() / "pid";
  hybrid_cgroup_fix fix;
  if (!fix.failure().empty()) return no_numbers(fix.failure());
  int n = 0;
  return measure_each(names, runs, [&]() -> timings {
    std::error_code ec;
    fs::remove(pid_file, ec);
    const auto id = fmt::format("ovz-distro-bench-{}-{}", ::getpid(), n++);
    oci_container c(*exe, id);
    const auto t0 = clock_type::now();
    auto started = run_command({*exe, "run", "--detach", "--bundle", bundle.path().string(),
                                "--pid-file", pid_file.string(), id});
    if (!started.failure.empty()) return {{}, std::move(started.failure)};
    auto up = until_http_200("127.0.0.1", t0);
    if (!up.failure.empty()) return {{}, std::move(up.failure)};
    pid_t pid = 0;
    std::ifstream(pid_file) >> pid;
    if (pid <= 0) return {{}, fmt::format("no pid in {}", pid_file.string())};
    const auto t1 = clock_type::now();
    auto killed = run_command({*exe, "kill", id, "TERM"});
    if (!killed.failure.empty()) return {{}, std::move(killed.failure)};
    if (auto why = wait_exit(pid, 30s); !why.empty()) return {{}, why};
    auto gone = run_command({*exe, "delete", id});
    if (!gone.failure.empty()) return {{}, std::move(gone.failure)};
    c.deleted();
    return {{up.ms, ms_since(t1)}, {}};
  });
}

// ---- the program ----

struct options {
  int runs = 5;
  fs::path sysv, systemd;  // template tarballs; empty: that line is not measured
};

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      auto runs = parse_runs(argv[++i]);
      if (!runs) return std::nullopt;
      o.runs = *runs;
    } else if (a == "--sysv" && i + 1 < argc) {
      o.sysv = argv[++i];
    } else if (a == "--systemd" && i + 1 < argc) {
      o.systemd = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  if (o.sysv.empty() && o.systemd.empty()) return std::nullopt;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr,
               "usage: ovz_distro_bench [--runs N] [--sysv TARBALL] [--systemd TARBALL]\n"
               "  --runs N            timed runs per line (default 5, at least 1)\n"
               "  --sysv TARBALL      Debian template with sysvinit and apache2\n"
               "  --systemd TARBALL   Debian template with systemd and apache2\n"
               "  (tests/support/debian-templates OVZCTL sysv|systemd prints their paths)\n");
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_distro_bench: needs root (it starts VEs and containers)\n");
    return 1;
  }
  // The stand-in host, while this is the only thread.
  if (auto why = isolate_network(); !why.empty()) {
    fmt::print(stderr, "ovz_distro_bench: {}\n", why);
    return 1;
  }
  catch_interrupts();

  temp_dir root("ovz-distro-bench-root");
  if (!root.failure().empty()) {
    fmt::print(stderr, "ovz_distro_bench: {}\n", root.failure());
    return 1;
  }
  fmt::print("ovz_distro_bench: {} runs per line; state root {}\n", opts->runs,
             root.path().string());
  std::fflush(stdout);

  struct flavour {
    std::string name;
    fs::path tarball;
    std::vector<row> rows{};
    fs::path tree{};
  };
  std::vector<flavour> flavours;
  if (!opts->sysv.empty()) flavours.push_back({"sysv", opts->sysv});
  if (!opts->systemd.empty()) flavours.push_back({"systemd", opts->systemd});

  {
    ctid_source ids(root.path());
    for (auto& f : flavours) {
      const std::string tmpl = "bench-" + f.name;
      fmt::print(stderr, "  importing {}\n", f.tarball.string());
      auto imported = ovz::template_store(root.path()).import(f.tarball, tmpl);
      if (!imported) {
        const auto why = fmt::format("import {}: {}", f.tarball.string(),
                                     imported.error().message());
        f.rows = {{f.name + " VE create→HTTP 200", {}, why}, {f.name + " VE clean stop", {}, why}};
        continue;
      }
      f.tree = imported->path;
      f.rows = bench_ve(ids, f.name, tmpl, opts->runs);
    }
  }
  // crun last: its cgroup workaround must not be in place while a VE makes cgroups, which
  // could keep the borrowed hierarchy alive past its umount.
  std::vector<row> crun;
  if (!flavours.empty() && flavours.front().name == "sysv" && !flavours.front().tree.empty()) {
    crun = bench_crun(flavours.front().tree, opts->runs);
  } else {
    crun = {{"crun apache run→HTTP 200", {}, "needs the sysv template (--sysv)"},
            {"crun apache stop", {}, "needs the sysv template (--sysv)"}};
  }

  std::vector<row> all;
  for (const auto& f : flavours) all.insert(all.end(), f.rows.begin(), f.rows.end());
  all.insert(all.end(), crun.begin(), crun.end());
  print_table(all);
  fmt::print("\n(crun runs apache2 alone as PID 1, no init and no other daemon; a VE boots its "
             "init,\n which starts apache2, cron, rsyslog and sshd, and stops them all.)\n");
  fmt::print("\nmedians compared\n");
  for (const auto& f : flavours) {
    print_ratio(f.rows[0], crun[0], std::nullopt, 52);
    print_ratio(f.rows[1], crun[1], std::nullopt, 52);
  }

  if (has_mounts_below(root.path())) {
    fmt::print(stderr, "warning: something is still mounted under {}; left in place\n",
               root.path().string());
    root.keep();
  }
  return interrupted ? 128 + interrupted : 0;
}
