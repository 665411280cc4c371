#include "ovzctl/migrate.hpp"

#include <ovz/error.hpp>
#include <ovz/migration.hpp>

#include <fmt/format.h>

#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ovzctl {
namespace {

ovz::error usage_error(const std::string& message) {
  return ovz::error(ovz::make_error_code(ovz::errc::invalid_argument), message);
}

ovz::error sys_error(int err, const std::string& what) {
  return ovz::error(std::error_code(err, std::system_category()),
                    fmt::format("{}: {}", what, std::strerror(err)));
}

// Both ends of a stream; either may be handed on.
struct socket_pair {
  int ours = -1, theirs = -1;
  static ovz::result<socket_pair> make() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      return sys_error(errno, "socketpair");
    return socket_pair{fds[0], fds[1]};
  }
  socket_pair(int a, int b) : ours(a), theirs(b) {}
  socket_pair(socket_pair&& o) noexcept : ours(o.ours), theirs(o.theirs) { o.ours = o.theirs = -1; }
  socket_pair& operator=(socket_pair&&) = delete;
  ~socket_pair() {
    for (int fd : {ours, theirs})
      if (fd >= 0) ::close(fd);
  }
};

// ssh://[USER@]HOST[:PORT][/ROOT]
struct ssh_target {
  std::string host;  // USER@HOST
  std::string port;
  std::string root;
};

ovz::result<ssh_target> parse_ssh(std::string_view rest) {
  ssh_target t;
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    t.root = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    t.port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos)
      return usage_error(fmt::format("migrate: bad port '{}' in the destination", t.port));
  }
  if (rest.empty() || rest.starts_with('-'))
    return usage_error("migrate: no host in the destination");
  t.host = rest;
  return t;
}

// `ssh HOST ovzctl migrate-receive`, its stdin and stdout `stream`. Its PID.
ovz::result<pid_t> start_ssh(const ssh_target& t, int stream) {
  const char* ssh = std::getenv("OVZCTL_SSH");
  std::vector<std::string> argv = {ssh && *ssh ? ssh : "ssh"};
  if (!t.port.empty()) argv.insert(argv.end(), {"-p", t.port});
  argv.insert(argv.end(), {"--", t.host, "ovzctl"});
  if (!t.root.empty()) argv.insert(argv.end(), {"--root", t.root});
  argv.push_back("migrate-receive");
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, stream, STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, stream, STDOUT_FILENO);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return sys_error(rc, fmt::format("run {}", argv[0]));
  return pid;
}

// Copies `from` to `to` until end of file, then shuts `to` down for writing (or closes it):
// the far side sees the end.
void relay(int from, int to, bool to_is_socket) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = to_is_socket ? ::send(to, buf + done, n - done, MSG_NOSIGNAL)
                                     : ::write(to, buf + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      done += w;
    }
  }
  if (to_is_socket) ::shutdown(to, SHUT_WR);
  else ::close(to);
}

}  // namespace

ovz::result<int> do_migrate(ovz::ve& v, const command& cmd) {
  const std::string_view dest = cmd.destination;
  BOOST_OUTCOME_TRY(pair, socket_pair::make());
  std::printf("Starting migration of CT %u to %s\n", v.id().value(), cmd.destination.c_str());
  std::fflush(stdout);
  if (dest.starts_with("local:")) {
    const std::filesystem::path to(dest.substr(6));
    if (to.empty()) return usage_error("migrate: local: needs the path of a state root");
    auto received = std::async(std::launch::async,
                               [&, fd = pair.theirs] { return ovz::receive_ve(fd, to); });
    auto sent = v.migrate(pair.ours, cmd.migrate);
    // A sender that gave up before the end leaves the receiver waiting for the rest.
    ::shutdown(pair.ours, SHUT_RDWR);
    auto got = received.get();
    if (!sent) return sent.error();
    if (!got) return got.error();
  } else if (dest.starts_with("ssh://")) {
    BOOST_OUTCOME_TRY(target, parse_ssh(dest.substr(6)));
    BOOST_OUTCOME_TRY(ssh, start_ssh(target, pair.theirs));
    ::close(pair.theirs);
    pair.theirs = -1;
    auto sent = v.migrate(pair.ours, cmd.migrate);
    ::shutdown(pair.ours, SHUT_RDWR);
    int status = 0;
    while (::waitpid(ssh, &status, 0) < 0 && errno == EINTR) {
    }
    if (!sent) return sent.error();
  } else {
    return usage_error(fmt::format(
        "migrate: '{}' is no destination (local:PATH or ssh://[USER@]HOST[:PORT][/ROOT])", dest));
  }
  std::printf("Migration of CT %u completed\n", v.id().value());
  return 0;
}

ovz::result<int> do_migrate_receive(const command& cmd) {
  // The stream is stdin and stdout (pipes, under ssh); the library speaks over one socket.
  BOOST_OUTCOME_TRY(pair, socket_pair::make());
  std::thread in([&] { relay(STDIN_FILENO, pair.theirs, true); });
  std::thread out([&] { relay(pair.theirs, STDOUT_FILENO, false); });
  auto got = ovz::receive_ve(pair.ours, cmd.root);
  ::shutdown(pair.ours, SHUT_RDWR);
  out.join();
  // The sender closes its end once done; stdin reaches its end then.
  in.join();
  if (!got) return got.error();
  std::fprintf(stderr, "CT %u received\n", got->value());
  return 0;
}

}  // namespace ovzctl
