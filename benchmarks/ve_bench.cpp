// ovz_bench: what starting, entering and cycling a VE costs, measured next to what a user would
// otherwise reach for on the same root filesystem: crun and runc, and bare `unshare` as the
// floor every namespace-based tool pays. A benchmark, not a test: a missed goal is reported,
// never turned into an exit code.

#include <ovz/ctid.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

// The SIGINT or SIGTERM received, if any: the runs stop early so that every VE, mount and
// directory the benchmark made is still cleaned up.
volatile std::sig_atomic_t interrupted = 0;

void on_signal(int sig) { interrupted = sig; }

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

std::string errno_text(int e) { return std::error_code(e, std::system_category()).message(); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// One measured run: its wall time, or why it failed.
struct timing {
  double ms = 0;
  std::string failure;
};

timing failed(std::string why) { return {0, std::move(why)}; }

struct stats {
  double min, median, max;
};

// One line of the table: the numbers, or why there are none.
struct row {
  std::string name;
  std::optional<stats> s;
  std::string failure;
};

stats summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const auto n = ms.size();
  const double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  return {ms.front(), median, ms.back()};
}

// One untimed warm-up run first, so that the page cache, dentries and first-use setup of the
// tool under test do not land in the numbers; then `runs` timed runs.
row measure(std::string name, int runs, const std::function<timing()>& once) {
  fmt::print(stderr, "  {}\n", name);
  std::vector<double> ms;
  for (int i = 0; i <= runs; ++i) {
    if (interrupted) return {std::move(name), {}, "interrupted"};
    auto t = once();
    if (!t.failure.empty()) return {std::move(name), {}, std::move(t.failure)};
    if (i > 0) ms.push_back(t.ms);
  }
  return {std::move(name), summarize(std::move(ms)), {}};
}

// A fresh directory under /tmp, removed with its contents at scope exit.
class temp_dir {
 public:
  explicit temp_dir(std::string_view prefix) {
    std::string tmpl = fmt::format("/tmp/{}-XXXXXX", prefix);
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
    else failure_ = fmt::format("mkdtemp {}: {}", tmpl, errno_text(errno));
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
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

// ---- the peers: whole commands, timed as a user of the tool would see them ----

// The executable `name` from PATH, or from the sbin directories that a PATH without them
// (sudo, some shells) still leaves runc in.
std::optional<std::string> find_program(std::string_view name) {
  const char* env = std::getenv("PATH");
  std::string dirs = fmt::format("{}:/usr/local/sbin:/usr/sbin:/sbin", env ? env : "/usr/bin:/bin");
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;
    auto candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("ended with wait status {}", status);
}

// Wall time of one command from posix_spawn to its reaping. stdout goes to /dev/null; stderr
// is kept so that a failing tool can say why.
timing run_command(const std::vector<std::string>& argv) {
  const int err_fd = ::memfd_create("ovz-bench-stderr", MFD_CLOEXEC);
  if (err_fd < 0) return failed(fmt::format("memfd_create: {}", errno_text(errno)));
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const auto t0 = clock_type::now();
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  int status = 0;
  if (rc == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  const double ms = ms_since(t0);
  ::posix_spawn_file_actions_destroy(&actions);

  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  timing t{ms, {}};
  if (rc != 0) {
    t = failed(fmt::format("{}: {}", command, errno_text(rc)));
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string err(4096, '\0');
    const auto n = ::pread(err_fd, err.data(), err.size(), 0);
    err.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    t = failed(fmt::format("`{}` {}{}{}", command, describe_status(status),
                           err.empty() ? "" : ": ", err));
  }
  ::close(err_fd);
  return t;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += fmt::format("\\{}", c);
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", int(c));
    else out += c;
  }
  return out + "\"";
}

// The OCI runtime config both runtimes run: `crun spec` as crun 1.8 generates it, with the
// benchmark's rootfs (read-only), /bin/true and no terminal. One file for both keeps the
// comparison fair; runc's own default differs only in a few more masked paths.
std::string oci_config(const fs::path& rootfs) {
  return fmt::format(R"({{
  "ociVersion": "1.0.0",
  "process": {{
    "terminal": false,
    "user": {{"uid": 0, "gid": 0}},
    "args": ["/bin/true"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
    "capabilities": {{
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "inheritable": [],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    }},
    "rlimits": [{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}}],
    "noNewPrivileges": true
  }},
  "root": {{"path": {}, "readonly": true}},
  "hostname": "bench",
  "mounts": [
    {{"destination": "/proc", "type": "proc", "source": "proc"}},
    {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}},
    {{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}},
    {{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}},
    {{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": ["nosuid", "noexec", "nodev"]}},
    {{"destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": ["nosuid", "noexec", "nodev", "ro"]}},
    {{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}}
  ],
  "linux": {{
    "resources": {{"devices": [{{"allow": false, "access": "rwm"}}]}},
    "namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}},
                   {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }}
}}
)",
                     json_string(rootfs.string()));
}

constexpr const char* cgroup_root = "/sys/fs/cgroup";
constexpr const char* cgroup2_hybrid = "/sys/fs/cgroup/unified";

bool is_cgroup2(const char* path) {
  struct statfs st {};
  return ::statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

std::vector<std::string> cgroup2_controllers() {
  return words(read_file(fs::path(cgroup2_hybrid) / "cgroup.controllers"));
}

// crun refuses a hybrid cgroup host (v1 hierarchies and a cgroup2 mount beside them) while any
// controller is enabled on the cgroup2 side. Mounting each such controller as a v1 hierarchy
// of its own takes it off cgroup2 for as long as crun runs; the destructor gives it back. On
// any other layout this does nothing.
class hybrid_cgroup_fix {
 public:
  hybrid_cgroup_fix() {
    if (is_cgroup2(cgroup_root) || !is_cgroup2(cgroup2_hybrid)) return;
    for (const auto& controller : cgroup2_controllers()) {
      std::string dir = fmt::format("/tmp/ovz-bench-cgroup-{}-XXXXXX", controller);
      if (!::mkdtemp(dir.data())) {
        failure_ = fmt::format("mkdtemp {}: {}", dir, errno_text(errno));
        return;
      }
      if (::mount("cgroup", dir.c_str(), "cgroup", 0, controller.c_str()) != 0) {
        failure_ = fmt::format("hybrid cgroup host, and moving controller {} off cgroup2 "
                               "(mount -t cgroup -o {}) failed: {}",
                               controller, controller, errno_text(errno));
        ::rmdir(dir.c_str());
        return;
      }
      fmt::print(stderr, "  (hybrid cgroups: {} bound to {} while crun runs)\n", controller, dir);
      bound_.push_back({controller, dir});
    }
  }
  ~hybrid_cgroup_fix() {
    for (const auto& b : bound_) release(b);
  }
  hybrid_cgroup_fix(const hybrid_cgroup_fix&) = delete;
  hybrid_cgroup_fix& operator=(const hybrid_cgroup_fix&) = delete;

  /// Why crun cannot run here, or empty.
  const std::string& failure() const { return failure_; }

 private:
  struct binding {
    std::string controller;
    std::string dir;
  };

  static bool back_on_cgroup2(const std::string& controller) {
    // The hierarchy is dissolved asynchronously after the umount.
    for (int i = 0; i < 100; ++i) {
      auto all = cgroup2_controllers();
      if (std::find(all.begin(), all.end(), controller) != all.end()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // A v1 hierarchy dissolves at umount only if it has no child cgroup at that moment, and one
  // a runtime removed just before may still be on its way out. Then only a later umount
  // dissolves it, so this mounts and unmounts again a few times.
  static void release(const binding& b) {
    bool back = false;
    for (int attempt = 0; attempt < 4 && !back; ++attempt) {
      if (attempt > 0 && ::mount("cgroup", b.dir.c_str(), "cgroup", 0, b.controller.c_str()) != 0) {
        break;
      }
      if (::umount(b.dir.c_str()) != 0) {
        fmt::print(stderr, "warning: umount {}: {}\n", b.dir, errno_text(errno));
        return;
      }
      back = back_on_cgroup2(b.controller);
    }
    ::rmdir(b.dir.c_str());
    if (!back) {
      fmt::print(stderr,
                 "warning: cgroup controller {0} is still on a v1 hierarchy; "
                 "`mount -t cgroup -o {0} cgroup DIR && umount DIR` gives it back to cgroup2\n",
                 b.controller);
    }
  }

  std::vector<binding> bound_;
  std::string failure_;
};

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

// A VE the benchmark made: stopped and destroyed at scope exit, whatever happened in between.
// Errors are ignored there: a VE already stopped or destroyed is the usual case.
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

// CTIDs for the benchmark's VEs, counting up past any VE already under the state root (when
// --root names one in use).
class ctid_source {
 public:
  explicit ctid_source(fs::path root) : root_(std::move(root)) {
    if (auto all = ovz::list_ves(root_)) {
      for (const auto& st : *all) taken_.insert(st.id.value());
    }
  }

  ovz::result<ovz::ve> next() {
    while (taken_.count(next_)) ++next_;
    auto id = ovz::ctid::from_number(next_++);
    if (!id) return id.error();
    return ovz::ve::open(*id, root_);
  }

 private:
  fs::path root_;
  std::set<std::uint32_t> taken_;
  std::uint32_t next_ = 1000;
};

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

void print_table(const std::vector<row>& rows) {
  fmt::print("\n{:<18} {:>10} {:>10} {:>10}\n", "", "min ms", "median ms", "max ms");
  for (const auto& r : rows) {
    if (r.s) {
      fmt::print("{:<18} {:>10.3f} {:>10.3f} {:>10.3f}\n", r.name, r.s->min, r.s->median,
                 r.s->max);
    } else {
      fmt::print("{:<18} not measured: {}\n", r.name, r.failure);
    }
  }
}

void print_ratio(const row& ve, const row& peer, std::optional<double> goal) {
  const auto label = fmt::format("{} / {}", ve.name, peer.name);
  if (!ve.s || !peer.s) {
    fmt::print("{:<36} n/a\n", label);
    return;
  }
  const double ratio = ve.s->median / peer.s->median;
  if (goal) {
    fmt::print("{:<36} {:>7.2f}×   goal ≤ {:.2f}×   {}\n", label, ratio, *goal,
               ratio <= *goal ? "met" : "MISSED");
  } else {
    fmt::print("{:<36} {:>7.2f}×\n", label, ratio);
  }
}

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

// True when something is mounted at or below `dir`. Removing the directory would then reach
// into whatever a failed stop left mounted, so it is left for a person to look at.
bool has_mounts_below(const fs::path& dir) {
  std::istringstream in(read_file("/proc/self/mountinfo"));
  const std::string prefix = dir.string() + "/";
  for (std::string line; std::getline(in, line);) {
    auto f = words(line);
    if (f.size() > 4 && (f[4] == dir.string() || f[4].starts_with(prefix))) return true;
  }
  return false;
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
      std::string_view v = argv[++i];
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o.runs);
      if (ec != std::errc{} || end != v.data() + v.size() || o.runs < 1) return std::nullopt;
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
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

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
