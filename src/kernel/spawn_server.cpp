#include "kernel/spawn_server.hpp"

#include "fail.hpp"
#include "kernel/fd_passing.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <mutex>

namespace ovz::detail {
namespace {

struct server {
  std::mutex lock;
  pid_t owner = 0;  // the process that started it
  pid_t pid = 0;
  std::string helper;
  unique_fd sock;
  dev_t dev = 0;  // the socket's identity: a caller may have closed its number, and reused it
  ino_t ino = 0;
};

// Still our socket under its number: a caller that closed every descriptor it did not know
// (a daemon's start-up) may have another file there now, which is not ours to use or close.
bool still_ours(server& s) {
  struct stat st {};
  if (::fstat(s.sock.get(), &st) == 0 && st.st_dev == s.dev && st.st_ino == s.ino) return true;
  (void)s.sock.release();
  return false;
}

// Never destroyed: a spawn may run while the process exits.
server& the_server() {
  static auto* s = new server;
  return *s;
}

// Ours goes: it ends on end-of-file, once no copy of its socket is left (a child the caller
// forked may hold one), and is reaped if it has ended already; else it stays the caller's
// child to reap (or init's, at the caller's exit), rather than the caller waiting for it.
void retire(server& s) {
  const bool ours = s.owner == ::getpid() && s.pid > 0;
  s.sock.reset();
  if (ours)
    while (::waitpid(s.pid, nullptr, WNOHANG) < 0 && errno == EINTR) {
    }
  s.pid = 0;
}

result<void> launch(server& s, const std::string& helper) {
  retire(s);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return sys_fail(errno, "socketpair for the spawn server");
  unique_fd ours(pair[0]), theirs(pair[1]);
  const int handed[] = {theirs.get()};
  BOOST_OUTCOME_TRY(pid, start_helper_program(helper, "ovz-spawnd",
                                              "--serve=" + std::to_string(theirs.get()), handed));
  struct stat st {};
  if (::fstat(ours.get(), &st) != 0) return sys_fail(errno, "fstat the spawn server's socket");
  s.owner = ::getpid();
  s.pid = pid;
  s.helper = helper;
  s.sock = std::move(ours);
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  return success();
}

}  // namespace

result<pid_t> start_helper_program(const std::string& helper, const char* name,
                                   const std::string& arg, std::span<const int> fds) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  // A descriptor dup2'd onto itself loses its close-on-exec flag (POSIX.1-2024; glibc 2.29).
  for (int fd : fds) ::posix_spawn_file_actions_adddup2(&actions, fd, fd);
  sigset_t all, none;
  ::sigfillset(&all);
  ::sigemptyset(&none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char* const argv[] = {const_cast<char*>(name), const_cast<char*>(arg.c_str()), nullptr};
  char* const envp[] = {nullptr};
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, helper.c_str(), &actions, &attr, argv, envp);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (err != 0) return sys_fail(err, "posix_spawn the spawn helper {}", helper);
  return pid;
}

result<served_child> serve_spawn(const std::string& helper, std::string_view plan,
                                 std::span<const int> fds) {
  server& s = the_server();
  std::lock_guard hold(s.lock);
  for (int attempt = 0;; ++attempt) {
    if (!s.sock || s.owner != ::getpid() || s.helper != helper || !still_ours(s)) {
      BOOST_OUTCOME_TRY(launch(s, helper));
    }
    // A server that has ended took nothing: the spawn goes to a new one.
    auto sent = send_with_fds(s.sock.get(), plan, fds, "the plan to the spawn server");
    if (!sent) {
      const int err = sent.error().sys_errno();
      if (attempt == 0 && (err == EPIPE || err == ECONNRESET || err == ENOTCONN)) {
        retire(s);
        continue;
      }
      return sent.error();
    }
    BOOST_OUTCOME_TRY(reply, receive_with_fds(s.sock.get(), sizeof(std::int32_t), 1,
                                              "the spawn server's answer"));
    if (!reply) {
      retire(s);
      return fail(errc::child_failed, "the spawn server {} ended before it answered", helper);
    }
    std::int32_t pid = 0;
    if (reply->bytes.size() != sizeof pid)
      return fail(errc::child_failed, "the spawn server {} answered {} bytes", helper,
                  reply->bytes.size());
    std::memcpy(&pid, reply->bytes.data(), sizeof pid);
    if (pid <= 0) return sys_fail(-pid, "clone3 of the first child in the spawn server");
    if (reply->fds.empty())
      return fail(errc::child_failed, "the spawn server {} sent no pidfd", helper);
    return served_child{pid, std::move(reply->fds.front())};
  }
}

int spawn_server_socket() {
  server& s = the_server();
  std::lock_guard hold(s.lock);
  return s.sock && s.owner == ::getpid() && still_ours(s) ? s.sock.get() : -1;
}

}  // namespace ovz::detail
