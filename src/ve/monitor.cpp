#include "ve/monitor.hpp"

#include <ovz/log.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/criu_service.hpp"
#include "kernel/dirs.hpp"
#include "kernel/fd_passing.hpp"
#include "kernel/host_tool.hpp"
#include "kernel/log_writer.hpp"
#include "kernel/sys.hpp"
#include "kernel/unix_address.hpp"
#include "log.hpp"
#include "ve/live_state.hpp"
#include "ve/syscall_broker.hpp"
#include "ve/terminal.hpp"
#include "ve/ve_op.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

extern char** environ;

namespace ovz::detail {
namespace {

// The descriptors spawn hands the monitor (spawn_spec::monitor).
constexpr int console_socket_fd = 3;
constexpr int confirm_fd = 4;
constexpr int listener_fd = monitor_first_extra_fd;
constexpr int broker_fd = monitor_first_extra_fd + 1;  // a brokered VE's (bind_broker)

// How long a monitor whose VE ended waits for the VE's lock, held by a stop or a start.
constexpr std::chrono::minutes lock_patience{10};

struct monitor_args {
  std::optional<ctid> id;
  std::filesystem::path root;
  pid_t init = 0;
  bool foreground = false;
  bool restore = false;  // CRIU restores the init (start_restoring_monitor)
  int module_fd = -1;    // the ovz module's file the init is registered through
};

std::optional<monitor_args> parse_args(int argc, char** argv) {
  monitor_args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view key) -> std::optional<std::string_view> {
      if (arg.substr(0, key.size()) != key) return std::nullopt;
      return arg.substr(key.size());
    };
    if (auto v = value("--ctid=")) {
      auto id = ctid::parse(*v);
      if (!id) return std::nullopt;
      a.id = *id;
    } else if (auto v = value("--root=")) {
      a.root = std::string(*v);
    } else if (auto v = value("--init=")) {
      a.init = static_cast<pid_t>(std::atoi(std::string(*v).c_str()));
    } else if (auto v = value("--module-fd=")) {
      a.module_fd = std::atoi(std::string(*v).c_str());
    } else if (arg == "--foreground") {
      a.foreground = true;
    } else if (arg == "--restore") {
      a.restore = true;
    } else {
      return std::nullopt;
    }
  }
  if (!a.id || a.root.empty() || (a.init <= 0) != a.restore) return std::nullopt;
  return a;
}

}  // namespace

namespace {

result<unique_fd> bind_listening(const std::filesystem::path& path) {
  BOOST_OUTCOME_TRY(make_root_only_dir(path.parent_path()));
  unique_fd dir(::open(path.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_fail(errno, "open {}", path.parent_path().string());
  const auto name = path.filename().string();
  // Left by a monitor that was killed: no other monitor of this VE runs while we hold the lock.
  if (::unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT)
    return sys_fail(errno, "remove the stale {}", path.string());
  unique_fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return sys_fail(errno, "socket for {}", path.string());
  auto addr = unix_address_at(dir.get(), name);
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_fail(errno, "bind {}", path.string());
  if (::listen(sock.get(), 8) != 0) return sys_fail(errno, "listen on {}", path.string());
  return sock;
}

}  // namespace

result<unique_fd> bind_console(const ve_paths& l) { return bind_listening(l.console_socket); }

result<unique_fd> bind_broker(const ve_paths& l) { return bind_listening(l.broker_socket); }

result<unique_fd> connect_to(const std::filesystem::path& path) {
  unique_fd dir(::open(path.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_fail(errno, "open {}", path.parent_path().string());
  unique_fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_fail(errno, "socket for {}", path.string());
  auto addr = unix_address_at(dir.get(), path.filename().string());
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_fail(errno, "connect to {}", path.string());
  return sock;
}

result<unique_fd> connect_broker(const ve_paths& l) { return connect_to(l.broker_socket); }

namespace {

// The VE's console as the monitor holds it: the terminal's master, the log it is copied
// into, and the clients attached to it.
class console_hub {
 public:
  console_hub(const ve_paths& l, unique_fd master)
      : master_(std::move(master)),
        log_dir_(::open(l.console_log.parent_path().c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC)),
        name_(l.console_log.filename().string()),
        rotated_(l.console_log_rotated.filename().string()),
        log_(log_writer_plan{log_dir_.get(), name_.c_str(), rotated_.c_str(),
                             console_log_max}) {
    if (master_) {
      ::fcntl(master_.get(), F_SETFL, O_NONBLOCK);
      // Our own hold on the slave: an init that closes and reopens /dev/console (systemd
      // does) would otherwise leave the master hung up meanwhile, and the poll spinning.
      slave_.reset(::ioctl(master_.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    }
  }

  int master() const { return master_.get(); }

  /// Copies what the VE wrote to its console into the log and to every client; false when
  /// nothing was there.
  bool pump() {
    char buf[8192];
    ssize_t n;
    do {
      n = ::read(master_.get(), buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    log_.append(buf, static_cast<std::size_t>(n));
    // A client that cannot take it at once is dropped, rather than let it stall the VE.
    std::erase_if(clients_, [&](const unique_fd& c) {
      return ::send(c.get(), buf, static_cast<std::size_t>(n), MSG_DONTWAIT | MSG_NOSIGNAL) != n;
    });
    return true;
  }

  void note(std::string_view text) { log_.append(text.data(), text.size()); }

  void accept_from(int listener) {
    unique_fd c(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!c) return;
    // A fresh socket's buffer is empty: the one byte goes out at once or the client is gone.
    if (::send(c.get(), &console_welcome, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) return;
    clients_.push_back(std::move(c));
  }

  std::vector<unique_fd>& clients() { return clients_; }

  /// A client's input, typed into the VE's console; false when the client left.
  bool type_from(int client) {
    char buf[4096];
    ssize_t n = ::read(client, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    if (master_) (void)::write(master_.get(), buf, static_cast<std::size_t>(n));
    return true;
  }

  void drop(int client) {
    std::erase_if(clients_, [&](const unique_fd& c) { return c.get() == client; });
  }

  void close() {
    while (master_ && pump()) {
    }
    clients_.clear();
    log_.close();
  }

 private:
  unique_fd master_, slave_, log_dir_;
  std::string name_, rotated_;
  capped_log log_;
  std::vector<unique_fd> clients_;
};

enum class confirmation { pending, confirmed, given_up };

confirmation read_confirmation(int fd) {
  char c = 0;
  ssize_t n;
  do {
    n = ::read(fd, &c, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1 && c == 'y' ? confirmation::confirmed : confirmation::given_up;
}

// Serves the console and the broker until init exits.
void serve(console_hub& hub, syscall_broker& broker, int pidfd, int listener, int broker_socket,
           confirmation& confirmed) {
  for (;;) {
    std::vector<pollfd> fds = {{pidfd, POLLIN, 0},
                               {hub.master(), POLLIN, 0},
                               {listener, POLLIN, 0},
                               {confirmed == confirmation::pending ? confirm_fd : -1, POLLIN, 0},
                               {broker_socket, POLLIN, 0}};
    const std::size_t first_client = fds.size();
    for (const auto& c : hub.clients()) fds.push_back({c.get(), POLLIN, 0});
    const std::size_t first_broker = fds.size();
    broker.watch(fds);
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents & POLLIN) hub.pump();
    if (fds[2].revents & POLLIN) hub.accept_from(listener);
    if (fds[3].revents) confirmed = read_confirmation(confirm_fd);
    if (fds[4].revents & POLLIN) broker.accept_from(broker_socket);
    for (std::size_t i = first_client; i < first_broker; ++i)
      if (fds[i].revents && !hub.type_from(fds[i].fd)) hub.drop(fds[i].fd);
    for (std::size_t i = first_broker; i < fds.size(); ++i)
      if (fds[i].revents) broker.handle(fds[i]);
    if (fds[0].revents) return;
  }
}

// After init's end, with the VE's lock: what is left of the VE goes at once (a halt inside
// needs no `stop`), unless a stop already took it away or a start made it anew meanwhile.
// True when the VE was cleaned up here, so that a reboot may start it again.
result<bool> clean_up_after(const ve& v) {
  const auto until = std::chrono::steady_clock::now() + lock_patience;
  for (;;) {
    auto cleaned = ve_op::run(v, {.lock = true, .live = true}, [&](ve_op& op) -> result<bool> {
      if (op.live.init_pid || !op.cg().exists(op.layout.cgroup)) return false;
      BOOST_OUTCOME_TRY(clean_up(op.host(), op.layout));
      return true;
    });
    if (cleaned || !cleaned.error().is(errc::locked) || std::chrono::steady_clock::now() > until)
      return cleaned;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int exit_code(const siginfo_t& si) {
  return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

}  // namespace

namespace {

// A program of libovz's: beside the loaded library (a build tree), else where it is installed,
// else where this build tree makes it. Installed before built: a build tree left on a machine
// must not serve an installed library.
std::optional<std::filesystem::path> find_libexec(const char* name) {
  Dl_info self{};
  if (::dladdr(reinterpret_cast<void*>(&find_libexec), &self) && self.dli_fname) {
    auto beside = std::filesystem::path(self.dli_fname).parent_path() / name;
    if (::access(beside.c_str(), X_OK) == 0) return beside;
  }
  for (const char* dir : {OVZ_LIBEXEC_INSTALLED, OVZ_LIBEXEC_BUILT}) {
    auto path = std::filesystem::path(dir) / name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return std::nullopt;
}

}  // namespace

result<std::filesystem::path> find_monitor() {
  if (const char* given = std::getenv("OVZ_MONITOR"); given && *given) {
    if (::access(given, X_OK) != 0)
      return sys_fail(errno, "the VE monitor {} (OVZ_MONITOR)", given);
    return std::filesystem::path(given);
  }
  if (auto found = find_libexec(monitor_name)) return *found;
  return sys_fail(ENOENT, "the VE monitor {}/{} (install libovz, or name it in OVZ_MONITOR)",
                  OVZ_LIBEXEC_INSTALLED, monitor_name);
}

std::string spawn_helper() {
  constexpr const char name[] = "ovz-spawn";
  if (const char* way = std::getenv("OVZ_SPAWN_HELPER"); way && std::string_view(way) == "none")
    return {};
  if (const char* monitor = std::getenv("OVZ_MONITOR"); monitor && *monitor) {
    auto beside = std::filesystem::path(monitor).parent_path() / name;
    if (::access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  auto found = find_libexec(name);
  return found ? found->string() : std::string();
}

process_monitor monitor_spec(const std::filesystem::path& program, ctid id,
                             const std::filesystem::path& state_root, bool foreground) {
  process_monitor m;
  m.program = program.string();
  m.argv = {monitor_name, fmt::format("--ctid={}", id.value()),
            fmt::format("--root={}", state_root.string())};
  if (foreground) m.argv.push_back("--foreground");
  for (char** e = environ; e && *e; ++e) m.env.emplace_back(*e);
  return m;
}

namespace {

// What the monitor serves: the init, the console's master, the listening sockets of the
// console and the broker, and where the seccomp listeners of init and of commands come from.
struct served {
  pid_t init = 0;
  unique_fd master, listener, broker_socket, listeners;
  // The ovz module's file the init is registered through, held for the VE's life: the module
  // forgets the VE when it closes, whatever ends us.
  unique_fd module;
};

// A started VE's: the spawn's descriptors (spawn_spec::monitor).
served from_spawn(pid_t init, int module_fd) {
  served s;
  s.init = init;
  s.module.reset(module_fd);
  auto master = receive_fd(console_socket_fd);
  if (master && *master) s.master = std::move(**master);
  s.listeners.reset(console_socket_fd);
  s.listener.reset(::fcntl(listener_fd, F_GETFD) >= 0 ? listener_fd : -1);
  // A VE without a broker may have the module's file there instead.
  s.broker_socket.reset(broker_fd != module_fd && ::fcntl(broker_fd, F_GETFD) >= 0 ? broker_fd
                                                                                 : -1);
  return s;
}

// The service's socket, the monitor's descriptor 0 until CRIU is done with it.
constexpr int restore_socket_fd = 0;

// A restored VE's: CRIU runs as our child on descriptor 0 (its output on ours), then the
// library sends the restored init's PID with the descriptors on the same socket
// (hand_restored_init). Nothing when the restore failed.
std::optional<served> from_restore() {
  // Off descriptor 0 first, which the tool's stdin (/dev/null) takes.
  unique_fd socket(::fcntl(restore_socket_fd, F_DUPFD_CLOEXEC, 3));
  auto criu = spawn_tool({criu_program(), "swrk", "3"}, STDOUT_FILENO, STDERR_FILENO,
                         {socket.get()});
  if (!criu) return std::nullopt;
  int status = 0;
  while (::waitpid(*criu, &status, 0) < 0 && errno == EINTR) {
  }
  auto got = receive_with_fds(restore_socket_fd, 32, 4, "the restored init");
  // Its output was the library's, for CRIU's errors: from now on there is none.
  if (unique_fd null{::open("/dev/null", O_RDWR | O_CLOEXEC)}) {
    for (int fd : {restore_socket_fd, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null.get(), fd);
  }
  if (!got || !*got) return std::nullopt;
  served s;
  s.init = static_cast<pid_t>(std::atoi((*got)->bytes.c_str()));
  auto& fds = (*got)->fds;
  // "PID module": the last descriptor is the module's (hand_restored_init).
  if ((*got)->bytes.ends_with(" module") && !fds.empty()) {
    s.module = std::move(fds.back());
    fds.pop_back();
  }
  for (std::size_t i = 0; i < fds.size() && i < 3; ++i)
    *std::array{&s.master, &s.listener, &s.broker_socket}[i] = std::move(fds[i]);
  if (s.init <= 0) return std::nullopt;
  return s;
}

}  // namespace

result<process> start_restoring_monitor(const std::filesystem::path& program, ctid id,
                                        const std::filesystem::path& state_root, int their_end,
                                        int output) {
  auto m = monitor_spec(program, id, state_root, false);
  spawn_spec spec;
  spec.argv = m.argv;
  spec.argv[0] = m.program;
  spec.argv.push_back("--restore");
  spec.env = m.env;
  spec.stdin_fd = their_end;
  spec.stdout_fd = spec.stderr_fd = output;
  spec.new_session = true;
  spec.detach = true;
  return spawn(spec);
}

result<void> hand_restored_init(int sock, pid_t init, int master, int console_listener,
                                int broker_listener, int module) {
  if (master < 0) return fail(errc::child_failed, "CRIU gave back no console for the VE");
  std::vector<int> fds;
  for (int fd : {master, console_listener, broker_listener, module})
    if (fd >= 0) fds.push_back(fd);
  return send_with_fds(sock, std::to_string(init) + (module >= 0 ? " module" : ""), fds,
                       "the restored init to its monitor");
}

int run_monitor(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) return 2;
  ::signal(SIGPIPE, SIG_IGN);
  const auto l = layout_of(args->root, *args->id);
  std::optional<served> what =
      args->restore ? from_restore() : from_spawn(args->init, args->module_fd);
  if (!what) return 0;
  args->init = what->init;
  unique_fd pidfd(pidfd_open(args->init));
  if (!pidfd) return 1;

  console_hub hub(l, std::move(what->master));

  // The same socket brings init's seccomp listener, where its filter has one.
  syscall_broker broker(args->init, l);
  if (what->listeners) broker.add_source(std::move(what->listeners));
  // Library messages (a failed clean-up, a restart that did not work) end up where the
  // VE's owner looks: its console log.
  set_log_handler([&hub](log_level level, std::string_view message) {
    hub.note(fmt::format("[ovz-monitor] {}: {}\n", to_string(level), message));
  });
  unique_fd listener = std::move(what->listener);
  unique_fd broker_socket = std::move(what->broker_socket);
  // A restored init is handed over once its start is complete.
  confirmation confirmed = args->restore ? confirmation::confirmed : confirmation::pending;
  serve(hub, broker, pidfd.get(), listener.get(), broker_socket.get(), confirmed);
  broker.release();
  // Their paths go with the VE's clean-up, under the VE's lock.
  listener.reset();
  broker_socket.reset();
  siginfo_t si{};
  // WNOWAIT: until the start is confirmed, its caller reads init's exit status itself.
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &si, WEXITED | WNOWAIT) != 0) return 1;
  const bool reboot = si.si_code == CLD_KILLED && si.si_status == SIGHUP;
  if (reboot) hub.note(fmt::format("[ovz-monitor] VE {} is rebooting\n", args->id->value()));
  hub.close();
  if (args->foreground) {
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &si, WEXITED);
    return exit_code(si);
  }
  if (confirmed == confirmation::pending) confirmed = read_confirmation(confirm_fd);
  // A start given up cleans up after itself: the zombie goes to our adopter.
  if (confirmed != confirmation::confirmed) return 0;
  ::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &si, WEXITED);

  auto v = ve::open(*args->id, args->root);
  if (!v) return 1;
  auto cleaned = clean_up_after(*v);
  if (!cleaned) {
    log(log_level::error, cleaned.error().message());
    return 1;
  }
  if (!reboot || !*cleaned) return 0;
  if (auto started = v->start(); !started) {
    log(log_level::error, fmt::format("restart after a reboot inside: {}", started.error().message()));
    return 1;
  }
  return 0;
}

result<std::optional<process>> monitor_of(pid_t init) { return parent_named(init, monitor_name); }

std::uint64_t console_size(const ve_paths& l) {
  std::error_code ec;
  auto n = std::filesystem::file_size(l.console_log, ec);
  return ec ? 0 : n;
}

std::string console_tail(const ve_paths& l, std::uint64_t from, std::size_t max_lines) {
  std::ifstream in(l.console_log);
  // A log rotated since is read whole.
  if (console_size(l) >= from) in.seekg(static_cast<std::streamoff>(from));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    // The terminal's output processing ends lines with "\r\n".
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (lines.size() > max_lines) lines.erase(lines.begin());
  }
  std::string tail;
  for (const auto& line : lines) tail += line + "\n";
  return tail;
}

}  // namespace ovz::detail
