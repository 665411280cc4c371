// ovz-oci: an OCI runtime on libovz. It maps runc's command line onto ovz::oci_container and
// prints what callers parse (state JSON, ps's PIDs); everything else is the library's.

#include "args.hpp"

#include <ovz/oci_bundle.hpp>
#include <ovz/oci_container.hpp>
#include <ovz/version.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using ovz_oci::arguments;

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// runc's way: the error on stderr, and a line in the log where one is given (Podman reads one
// JSON object from it, containerd the last error of a stream).
int report(const arguments& a, const std::string& message) {
  std::fprintf(stderr, "ovz-oci: %s\n", message.c_str());
  if (a.log.empty()) return 1;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm tm{};
  ::gmtime_r(&now.tv_sec, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string line =
      a.log_json ? fmt::format("{{\"level\":\"error\",\"msg\":{},\"time\":\"{}\"}}\n",
                               json_string(message), stamp)
                 : fmt::format("time=\"{}\" level=error msg={}\n", stamp, json_string(message));
  const int fd = ::open(a.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
  }
  return 1;
}

int failed(const arguments& a, const ovz::error& e) { return report(a, e.message()); }

// Digits and no newline, renamed into place: conmon and the shim read it as soon as create
// exits, containerd with strconv.Atoi.
ovz::result<void> write_pid_file(const std::filesystem::path& file, pid_t pid) {
  const auto tmp = file.parent_path() / ("." + file.filename().string());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ovz::error(std::error_code(errno, std::system_category()), "open " + tmp.string());
  const std::string text = std::to_string(pid);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0)
    return ovz::error(std::error_code(ok ? errno : err, std::system_category()),
                      "write the pid file " + file.string());
  return ovz::success();
}

ovz::result<ovz::unique_fd> connect_console(const std::filesystem::path& path) {
  ovz::unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path)
    return ovz::error(make_error_code(ovz::errc::invalid_argument),
                      "console socket path too long: " + path.string());
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return ovz::error(std::error_code(errno, std::system_category()),
                      "connect to the console socket " + path.string());
  return fd;
}

// The sockets systemd's socket activation passed us (LISTEN_FDS, for our PID), as runc takes
// them: 0 when there are none.
unsigned listen_fds() {
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  if (!fds || (pid && std::to_string(::getpid()) != pid)) return 0;
  unsigned n = 0;
  auto [end, ec] = std::from_chars(fds, fds + std::strlen(fds), n);
  return ec == std::errc{} && *end == '\0' ? n : 0;
}

// --preserve-fds N: our descriptors 3 … 3+N-1 under the same numbers, after `first` more
// (systemd's sockets); those not open stay closed there.
std::vector<int> preserved_fds(const arguments& a, unsigned first = 0) {
  std::vector<int> fds;
  for (unsigned i = 0; i < first + a.preserve_fds; ++i) {
    const int fd = 3 + static_cast<int>(i);
    fds.push_back(::fcntl(fd, F_GETFD) >= 0 ? fd : -1);
  }
  return fds;
}

// create's and run's container, its pid file written.
ovz::result<ovz::oci_container> create_container(const arguments& a,
                                                 const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  const auto bundle = a.bundle.empty() ? fs::current_path() : a.bundle;
  // crun's --config: a config.json elsewhere than the bundle is not taken (the container keeps
  // a copy of the bundle's own), but naming that one is fine.
  if (!a.config.empty() && fs::weakly_canonical(a.config) != fs::weakly_canonical(bundle / "config.json"))
    return ovz::error(make_error_code(ovz::errc::unsupported),
                      fmt::format("--config {}: only the bundle's own config.json ({}) is read",
                                  a.config.string(), (bundle / "config.json").string()));
  ovz::oci_io opts;
  opts.listen_fds = listen_fds();
  opts.pass_fds = preserved_fds(a, opts.listen_fds);
  ovz::unique_fd console;
  if (!a.console_socket.empty()) {
    BOOST_OUTCOME_TRY(c, connect_console(a.console_socket));
    console = std::move(c);
    opts.console_socket = console.get();
  }
  BOOST_OUTCOME_TRY(made, ovz::oci_container::create(root, a.id, bundle, opts));
  if (!a.pid_file.empty()) {
    auto written = [&]() -> ovz::result<void> {
      BOOST_OUTCOME_TRY(s, made.state());
      return write_pid_file(a.pid_file, s.pid);
    }();
    if (!written) {
      (void)made.destroy(true);
      return written.error();
    }
  }
  return std::move(made);
}

int create(const arguments& a, const std::filesystem::path& root) {
  auto made = create_container(a, root);
  return made ? 0 : failed(a, made.error());
}

// The init run waits for, and passes signals on to.
volatile sig_atomic_t run_init = 0;

void pass_signal(int sig) {
  if (run_init > 0) ::kill(static_cast<pid_t>(run_init), sig);
}

// runc's run: create and start; unless detached, wait for the init (ovz-oci is its subreaper,
// so it becomes our child when the spawn's intermediate ends), pass it the signals we get,
// delete the stopped container and exit as it did.
int run_to_end(const arguments& a, const std::filesystem::path& root) {
  if (!a.detach && ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    return report(a, fmt::format("prctl(PR_SET_CHILD_SUBREAPER): {}", std::strerror(errno)));
  auto made = create_container(a, root);
  if (!made) return failed(a, made.error());
  auto s = made->state();
  if (!s) return failed(a, s.error());
  if (!a.detach) {
    run_init = s->pid;
    struct sigaction act {};
    act.sa_handler = pass_signal;
    act.sa_flags = SA_RESTART;
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH})
      ::sigaction(sig, &act, nullptr);
  }
  if (auto r = made->start(); !r) {
    (void)made->destroy(true);
    return failed(a, r.error());
  }
  if (a.detach) return 0;
  int status = 0;
  while (::waitpid(s->pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    (void)made->destroy(true);
    return report(a, fmt::format("wait for the container's init {}: {}", s->pid,
                                 std::strerror(err)));
  }
  run_init = 0;
  if (!a.keep) {
    if (auto r = made->destroy(true); !r) return failed(a, r.error());
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A file's text, or stdin's for "-" (containerd's update).
ovz::result<std::string> read_input(const std::filesystem::path& file) {
  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(file);
  if (!in)
    return ovz::error(std::error_code(errno, std::system_category()), "open " + file.string());
  text << in.rdbuf();
  return text.str();
}

// runc's exec: a process file, or the container's own process with another command.
ovz::result<ovz::oci_process> exec_process(const arguments& a, const ovz::oci_container& c) {
  if (!a.process.empty()) {
    BOOST_OUTCOME_TRY(text, read_input(a.process));
    return ovz::parse_oci_process(text);
  }
  BOOST_OUTCOME_TRY(b, c.config());
  ovz::oci_process p = b.process.value_or(ovz::oci_process{});
  p.args = a.args;
  p.terminal = a.tty;
  if (!a.cwd.empty()) p.cwd = a.cwd;
  // --env NAME=VALUE replaces the container's NAME.
  for (const auto& e : a.env) {
    const auto name = e.substr(0, e.find('=') + 1);
    std::erase_if(p.env, [&](const std::string& x) { return x.rfind(name, 0) == 0; });
    p.env.push_back(e);
  }
  if (a.user) {
    p.user.uid = a.user->first;
    p.user.gid = a.user->second;
  }
  if (a.no_new_privs) p.no_new_privileges = true;
  // runc's --cap: bounding, effective and permitted; ambient too where the process has an
  // inheritable set. Names this kernel lacks are left out, as config.json's are.
  if (!a.caps.empty() && !p.capabilities) p.capabilities = ovz::oci_capabilities{};
  const auto names = ovz::oci_capability_names();
  for (const auto& cap : a.caps) {
    auto at = std::find(names.begin(), names.end(), cap);
    if (at == names.end()) continue;
    const int n = static_cast<int>(at - names.begin());
    auto& c = *p.capabilities;
    for (auto* set : {&c.bounding, &c.effective, &c.permitted}) set->push_back(n);
    if (!c.inheritable.empty()) c.ambient.push_back(n);
  }
  return p;
}

int exec(const arguments& a, ovz::oci_container& c) {
  auto proc = exec_process(a, c);
  if (!proc) return failed(a, proc.error());
  ovz::oci_io io;
  io.pass_fds = preserved_fds(a);
  ovz::unique_fd console;
  if (!a.console_socket.empty()) {
    auto s = connect_console(a.console_socket);
    if (!s) return failed(a, s.error());
    console = std::move(*s);
    io.console_socket = console.get();
  }
  auto p = c.exec(*proc, io, a.detach);
  if (!p) return failed(a, p.error());
  if (!a.pid_file.empty()) {
    if (auto w = write_pid_file(a.pid_file, p->pid()); !w) return failed(a, w.error());
  }
  if (a.detach) return 0;
  auto code = p->wait();
  if (!code) return failed(a, code.error());
  return *code;
}

// runc's list: IDs alone (-q), a table, or a JSON array of the containers' states.
int list(const arguments& a, const std::filesystem::path& root) {
  auto ids = ovz::oci_container::list(root);
  if (!ids) return failed(a, ids.error());
  std::string out = a.json ? "[" : a.quiet ? "" : "ID\tPID\tSTATUS\tBUNDLE\tCREATED\n";
  bool first = true;
  for (const auto& id : *ids) {
    if (a.quiet) {
      out += id + "\n";
      continue;
    }
    // One deleted meanwhile is not listed.
    auto c = ovz::oci_container::open(root, id);
    if (!c) continue;
    auto s = c->state();
    if (!s) continue;
    if (a.json) {
      out += fmt::format("{}{}", first ? "" : ",", ovz::to_json(*s));
    } else {
      out += fmt::format("{}\t{}\t{}\t{}\t{}\n", s->id, s->pid, ovz::to_string(s->status),
                         s->bundle.string(), s->created);
    }
    first = false;
  }
  if (a.json) out += "]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

// A JSON array of the names.
std::string json_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += fmt::format("{}{}", out.empty() ? "" : ", ", json_string(name));
  return "[" + out + "]";
}

int features() {
  const std::string caps = json_list(ovz::oci_capability_names());
  std::string annotations = fmt::format("\"org.openvz.ovz-oci.version\": \"{}\"", OVZ_VERSION_STRING);
  for (const auto& name : ovz::oci_openvz_annotations())
    annotations += fmt::format(",\n    {}: \"a VE setting, as vzctl set takes it\"", json_string(name));
  std::printf(
      "{\n  \"ociVersionMin\": \"1.0.0\",\n  \"ociVersionMax\": \"%s\",\n"
      "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", "
      "\"poststart\", \"poststop\"],\n"
      "  \"mountOptions\": [\"ro\", \"rw\", \"nosuid\", \"suid\", \"nodev\", \"dev\", \"noexec\", "
      "\"exec\", \"sync\", \"async\", \"dirsync\", \"atime\", \"noatime\", \"diratime\", "
      "\"nodiratime\", \"relatime\", \"norelatime\", \"strictatime\", \"nostrictatime\", "
      "\"bind\", \"rbind\", \"idmap\", \"ridmap\"],\n"
      "  \"linux\": {\n    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", "
      "\"user\", \"uts\"],\n    \"capabilities\": %s,\n"
      "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": true, \"systemdUser\": false},\n"
      "    \"seccomp\": {\"enabled\": true, \"actions\": %s, \"operators\": %s},\n"
      "    \"mountExtensions\": {\"idmap\": {\"enabled\": true}},\n"
      "    \"apparmor\": {\"enabled\": false},\n"
      "    \"selinux\": {\"enabled\": false}\n  },\n  \"annotations\": {\n    %s\n  }\n}\n",
      ovz::oci_spec_version, caps.c_str(), json_list(ovz::oci_seccomp_actions()).c_str(),
      json_list(ovz::oci_seccomp_operators()).c_str(), annotations.c_str());
  return 0;
}

int dispatch(const arguments& a) {
  const auto root = a.root.empty() ? ovz::default_oci_root() : a.root;
  switch (a.cmd) {
    case ovz_oci::command::help: std::fputs(ovz_oci::usage().c_str(), stdout); return 0;
    case ovz_oci::command::version:
      std::printf("ovz-oci version %s\nspec: %s\nlibovz: %s\n", OVZ_VERSION_STRING,
                  ovz::oci_spec_version, OVZ_VERSION_STRING);
      return 0;
    case ovz_oci::command::features: return features();
    case ovz_oci::command::create: return create(a, root);
    case ovz_oci::command::run: return run_to_end(a, root);
    case ovz_oci::command::list: return list(a, root);
    default: break;
  }
  auto c = ovz::oci_container::open(root, a.id);
  if (!c) {
    // A forced delete of what is gone already has nothing left to do (Podman's clean-up and
    // containerd's shim rely on it).
    if (a.cmd == ovz_oci::command::remove && a.force && c.error().code() == ovz::errc::not_found)
      return 0;
    return failed(a, c.error());
  }
  switch (a.cmd) {
    case ovz_oci::command::start:
      if (auto r = c->start(); !r) return failed(a, r.error());
      return 0;
    case ovz_oci::command::state: {
      auto s = c->state();
      if (!s) return failed(a, s.error());
      std::fputs(ovz::to_json(*s).c_str(), stdout);
      return 0;
    }
    case ovz_oci::command::kill:
      if (auto r = c->kill(a.signal, a.all); !r) return failed(a, r.error());
      return 0;
    case ovz_oci::command::remove:
      if (auto r = c->destroy(a.force); !r) return failed(a, r.error());
      return 0;
    case ovz_oci::command::exec: return exec(a, *c);
    case ovz_oci::command::pause:
      if (auto r = c->pause(); !r) return failed(a, r.error());
      return 0;
    case ovz_oci::command::resume:
      if (auto r = c->resume(); !r) return failed(a, r.error());
      return 0;
    case ovz_oci::command::update: {
      auto text = read_input(a.resources);
      if (!text) return failed(a, text.error());
      auto resources = ovz::parse_oci_resources(*text);
      if (!resources) return failed(a, resources.error());
      if (auto r = c->update(*resources); !r) return failed(a, r.error());
      return 0;
    }
    case ovz_oci::command::ps: {
      auto pids = c->processes();
      if (!pids) return failed(a, pids.error());
      // A JSON array of host PIDs is what containerd's shim parses.
      std::string out = a.json ? "[" : "PID\n";
      for (std::size_t i = 0; i < pids->size(); ++i) {
        if (a.json) {
          out += fmt::format("{}{}", i ? "," : "", (*pids)[i]);
        } else {
          out += fmt::format("{}\n", (*pids)[i]);
        }
      }
      if (a.json) out += "]\n";
      std::fputs(out.c_str(), stdout);
      return 0;
    }
    default: return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> words(argv + 1, argv + argc);
  auto a = ovz_oci::parse(words);
  if (!a) {
    std::fprintf(stderr, "ovz-oci: %s\n%s", a.error().message().c_str(), ovz_oci::usage().c_str());
    return 1;
  }
  return dispatch(*a);
}
