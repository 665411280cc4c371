// The shared helpers of the benchmark programs; see bench_support.hpp.

#include "bench_support.hpp"

#include "kernel/netlink.hpp"

#include <ovz/network.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>

#include <fmt/core.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace ovz_bench {

volatile std::sig_atomic_t interrupted = 0;

namespace {
void on_signal(int sig) { interrupted = sig; }
}  // namespace

void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

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

timing failed(std::string why) { return {0, std::move(why)}; }

stats summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const auto n = ms.size();
  const double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  return {ms.front(), median, ms.back()};
}

std::vector<row> measure_each(std::vector<std::string> names, int runs,
                              const std::function<timings()>& once) {
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  fmt::print(stderr, "  {}\n", all);
  auto no_numbers = [&](const std::string& why) {
    std::vector<row> rows;
    for (auto& n : names) rows.push_back({std::move(n), {}, why});
    return rows;
  };
  std::vector<std::vector<double>> ms(names.size());
  for (int i = 0; i <= runs; ++i) {
    if (interrupted) return no_numbers("interrupted");
    auto t = once();
    if (!t.failure.empty()) return no_numbers(t.failure);
    if (t.ms.size() != names.size()) return no_numbers("a run returned the wrong number of times");
    if (i == 0) continue;
    for (std::size_t k = 0; k < names.size(); ++k) ms[k].push_back(t.ms[k]);
  }
  std::vector<row> rows;
  for (std::size_t k = 0; k < names.size(); ++k) {
    rows.push_back({std::move(names[k]), summarize(std::move(ms[k])), {}});
  }
  return rows;
}

row measure(std::string name, int runs, const std::function<timing()>& once) {
  return measure_each({std::move(name)}, runs, [&] {
           auto t = once();
           return timings{{t.ms}, std::move(t.failure)};
         }).front();
}

temp_dir::temp_dir(std::string_view prefix) {
  std::string tmpl = fmt::format("/tmp/{}-XXXXXX", prefix);
  if (::mkdtemp(tmpl.data())) path_ = tmpl;
  else failure_ = fmt::format("mkdtemp {}: {}", tmpl, errno_text(errno));
}

temp_dir::~temp_dir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::optional<long> parse_count(std::string_view text) {
  long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1) return std::nullopt;
  return n;
}

std::optional<int> parse_runs(std::string_view text) {
  auto n = parse_count(text);
  if (!n || *n > std::numeric_limits<int>::max()) return std::nullopt;
  return static_cast<int>(*n);
}

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

namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("ended with wait status {}", status);
}

// What a command wrote into the memfd `fd`, up to `max` bytes.
std::string written(int fd, std::size_t max) {
  std::string text(max, '\0');
  const auto n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return text;
}

}  // namespace

timing run_command(const std::vector<std::string>& argv, std::string* out) {
  const int err_fd = ::memfd_create("ovz-bench-stderr", MFD_CLOEXEC);
  if (err_fd < 0) return failed(fmt::format("memfd_create: {}", errno_text(errno)));
  const int out_fd = out ? ::memfd_create("ovz-bench-stdout", MFD_CLOEXEC) : -1;
  if (out && out_fd < 0) {
    ::close(err_fd);
    return failed(fmt::format("memfd_create: {}", errno_text(errno)));
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out) ::posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  else ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
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
    std::string err = written(err_fd, 4096);
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    t = failed(fmt::format("`{}` {}{}{}", command, describe_status(status),
                           err.empty() ? "" : ": ", err));
  }
  if (out) {
    *out = written(out_fd, 4096);
    ::close(out_fd);
  }
  ::close(err_fd);
  return t;
}

int http_status(const char* ip) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(80);
  ::inet_pton(AF_INET, ip, &sa.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  // A VE whose address is up but whose daemon is not yet listening refuses at once; the
  // timeouts only bound a daemon that accepts and then stalls.
  timeval limit{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  int status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    constexpr std::string_view request = "GET / HTTP/1.0\r\nHost: bench\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      std::string head;
      char buf[512];
      while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      // "HTTP/1.1 200 OK"
      if (head.starts_with("HTTP/") && head.find(' ') != std::string::npos) {
        const auto code = head.substr(head.find(' ') + 1, 3);
        std::from_chars(code.data(), code.data() + code.size(), status);
      }
    }
  }
  ::close(fd);
  return status;
}

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += fmt::format("\\{}", c);
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", int(c));
    else out += c;
  }
  return out + "\"";
}

std::string json_array(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + json_string(i);
  return "[" + out + "]";
}

}  // namespace

std::string oci_config(const fs::path& rootfs, const oci_options& o) {
  std::string tmpfs;
  for (const auto& dir : o.tmpfs) {
    tmpfs += fmt::format(R"(,
    {{"destination": {}, "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "nodev", "mode=755", "size=65536k"]}})",
                         json_string(dir));
  }
  const std::string caps = json_array(o.capabilities);
  return fmt::format(R"({{
  "ociVersion": "1.0.0",
  "process": {{
    "terminal": false,
    "user": {{"uid": 0, "gid": 0}},
    "args": {args},
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
    "capabilities": {{
      "bounding": {caps},
      "effective": {caps},
      "inheritable": [],
      "permitted": {caps},
      "ambient": {caps}
    }},
    "rlimits": [{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}}],
    "noNewPrivileges": true
  }},
  "root": {{"path": {root}, "readonly": true}},
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
      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}}{tmpfs}
  ],
  "linux": {{
    "resources": {{"devices": [{{"allow": false, "access": "rwm"}}]}},
    "namespaces": [{{"type": "pid"}},{network} {{"type": "ipc"}},
                   {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }}
}}
)",
                     fmt::arg("args", json_array(o.args)), fmt::arg("caps", caps),
                     fmt::arg("root", json_string(rootfs.string())), fmt::arg("tmpfs", tmpfs),
                     fmt::arg("network", o.own_network ? R"( {"type": "network"},)" : ""));
}

namespace {

constexpr const char* cgroup_root = "/sys/fs/cgroup";
constexpr const char* cgroup2_hybrid = "/sys/fs/cgroup/unified";

bool is_cgroup2(const char* path) {
  struct statfs st {};
  return ::statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

std::vector<std::string> cgroup2_controllers() {
  return words(read_file(fs::path(cgroup2_hybrid) / "cgroup.controllers"));
}

}  // namespace

namespace {

bool back_on_cgroup2(const std::string& controller) {
  // The hierarchy is dissolved asynchronously after the umount.
  for (int i = 0; i < 100; ++i) {
    auto all = cgroup2_controllers();
    if (std::find(all.begin(), all.end(), controller) != all.end()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

hybrid_cgroup_fix::hybrid_cgroup_fix() {
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

hybrid_cgroup_fix::~hybrid_cgroup_fix() {
  for (const auto& b : bound_) release(b);
}

// A v1 hierarchy dissolves at umount only if it has no child cgroup at that moment, and one a
// runtime removed just before may still be on its way out. Then only a later umount dissolves
// it, so this mounts and unmounts again a few times.
void hybrid_cgroup_fix::release(const binding& b) {
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

ctid_source::ctid_source(fs::path root) : root_(std::move(root)) {
  if (auto all = ovz::list_ves(root_)) {
    for (const auto& st : *all) taken_.insert(st.id.value());
  }
}

ovz::result<ovz::ve> ctid_source::next() {
  while (taken_.count(next_)) ++next_;
  auto id = ovz::ctid::from_number(next_++);
  if (!id) return id.error();
  return ovz::ve::open(*id, root_);
}

namespace {

// Characters, not bytes: fmt pads to a display width, and the names hold arrows.
std::size_t display_width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string padded(std::string_view s, std::size_t width) {
  const auto w = display_width(s);
  return std::string(s) + std::string(w < width ? width - w : 0, ' ');
}

}  // namespace

void print_table(const std::vector<row>& rows) {
  std::size_t width = 18;
  for (const auto& r : rows) width = std::max(width, display_width(r.name));
  fmt::print("\n{} {:>10} {:>10} {:>10}\n", padded("", width), "min ms", "median ms", "max ms");
  for (const auto& r : rows) {
    if (r.s) {
      fmt::print("{} {:>10.3f} {:>10.3f} {:>10.3f}\n", padded(r.name, width), r.s->min,
                 r.s->median, r.s->max);
    } else {
      fmt::print("{} not measured: {}\n", padded(r.name, width), r.failure);
    }
  }
}

void print_ratio(const row& a, const row& b, std::optional<double> goal, std::size_t width) {
  const auto label = padded(fmt::format("{} / {}", a.name, b.name), width);
  if (!a.s || !b.s) {
    fmt::print("{} n/a\n", label);
    return;
  }
  const double ratio = a.s->median / b.s->median;
  if (goal) {
    fmt::print("{} {:>7.2f}×   goal ≤ {:.2f}×   {}\n", label, ratio, *goal,
               ratio <= *goal ? "met" : "MISSED");
  } else {
    fmt::print("{} {:>7.2f}×\n", label, ratio);
  }
}

bench_state_root::bench_state_root(const fs::path& given, std::string_view prefix) {
  if (given.empty()) {
    own_.emplace(prefix);
    failure_ = own_->failure();
    path_ = own_->path();
  } else {
    path_ = ovz::resolve_state_root(given);
    std::error_code ec;
    fs::create_directories(path_, ec);
  }
  if (!failure_.empty()) return;
  auto rootfs = ovz::template_store(path_).find(ovz::builtin_template);
  if (rootfs) rootfs_ = rootfs->path;
  else failure_ = fmt::format("the busybox template: {}", rootfs.error().message());
}

bench_state_root::~bench_state_root() {
  if (own_ && !path_.empty() && has_mounts_below(path_)) {
    fmt::print(stderr, "warning: something is still mounted under {}; left in place\n",
               path_.string());
    own_->keep();
  }
}

bool has_mounts_below(const fs::path& dir) {
  std::istringstream in(read_file("/proc/self/mountinfo"));
  const std::string prefix = dir.string() + "/";
  for (std::string line; std::getline(in, line);) {
    auto f = words(line);
    if (f.size() > 4 && (f[4] == dir.string() || f[4].starts_with(prefix))) return true;
  }
  return false;
}

std::string isolate_network() {
  if (::unshare(CLONE_NEWNET) != 0) {
    return fmt::format("unshare(CLONE_NEWNET): {}", errno_text(errno));
  }
  namespace nl = ovz::detail::netlink;
  auto host = nl::socket::open();
  if (!host) return fmt::format("netlink: {}", host.error().message());
  auto lo = host->find_link("lo");
  if (!lo || !*lo) return "no lo in the new network namespace";
  if (auto r = host->set_up((*lo)->index, "lo"); !r) {
    return fmt::format("lo up: {}", r.error().message());
  }
  auto source = ovz::ip_address::parse("192.0.2.1/32");
  if (!source) return fmt::format("192.0.2.1/32: {}", source.error().message());
  if (auto r = host->add_address((*lo)->index, *source); !r) {
    return fmt::format("192.0.2.1/32 on lo: {}", r.error().message());
  }
  return {};
}

}  // namespace ovz_bench
