#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/confine.hpp"
#include "ve/live_state.hpp"
#include "ve/ve_environment.hpp"
#include "ve/ve_namespaces.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace ovz::inline v0 {
namespace {

result<unique_fd> receive_fd(int sock) {
  char byte;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(int))];
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = buf;
  msg.msg_controllen = sizeof buf;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return detail::sys_fail(errno, "receive the terminal from the VE");
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (n != 1 || !c || c->cmsg_type != SCM_RIGHTS)
    return detail::fail(errc::child_failed, "the VE's shell sent no terminal");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return unique_fd(fd);
}

// Puts the caller's terminal in raw mode for the session and restores it afterwards.
class raw_terminal {
 public:
  explicit raw_terminal(int fd) : fd_(fd) {
    if (::isatty(fd) && ::tcgetattr(fd, &saved_) == 0) {
      struct termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
  }
  ~raw_terminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

 private:
  int fd_;
  struct termios saved_ {};
  bool active_ = false;
};

enum class flow { moved, again, closed };

// Moves what one read gives; errno is looked at only when the read failed, since a call that
// succeeds leaves it as an earlier one set it.
flow copy(int from, int to) {
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(from, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return flow::again;
  if (n <= 0) return flow::closed;
  for (ssize_t done = 0; done < n;) {
    ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return flow::closed;
    done += w;
  }
  return flow::moved;
}

// Relays caller input to the VE's terminal and its output back until the shell exits.
void relay(int in, int out, int master, const process& shell) {
  bool input_open = true;
  for (;;) {
    struct pollfd p[3] = {{input_open ? in : -1, POLLIN, 0},
                          {master, POLLIN, 0},
                          {shell.pidfd(), POLLIN, 0}};
    if (::poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[0].revents && copy(in, master) == flow::closed) input_open = false;
    if (p[1].revents & POLLIN) {
      if (copy(master, out) == flow::closed) return;
    } else if (p[1].revents & (POLLHUP | POLLERR)) {
      return;
    }
    if (p[2].revents) {
      ::fcntl(master, F_SETFL, O_NONBLOCK);
      while (copy(master, out) == flow::moved) {
      }
      return;
    }
  }
}

}  // namespace

result<int> ve::enter(const enter_options& opts) const {
  const auto ctx = fmt::format("VE {}: enter", id_.value());
  BOOST_OUTCOME_TRY(op, detail::ve_op::begin(*this, {}));
  BOOST_OUTCOME_TRY(init, detail::running_init(op.cg(), op.layout, id_));

  spawn_spec spec;
  spec.argv = opts.argv;
  if (spec.argv.empty()) {
    // Looked up in the VE's root as its init sees it, absolute symlinks (usrmerge's /bin)
    // included.
    auto root = detail::open_root_of(init.pid());
    const bool bash =
        root && detail::open_below(root->get(), "bin/bash", O_PATH, RESOLVE_IN_ROOT).has_value();
    spec.argv = {bash ? "/bin/bash" : "/bin/sh", "-l"};
  }
  const char* term = std::getenv("TERM");
  spec.env = detail::ve_environment(term && *term ? term : "xterm");
  spec.cwd = "/root";
  auto held = op.cg().open_of(op.layout.cgroup, init.pid());
  if (!held) return detail::unless_stopped(init, id_, detail::with_context(held.error(), ctx));
  spec.prepare = [&](pid_t pid) { return op.cg().attach(*held, pid); };
  BOOST_OUTCOME_TRY(conf, config());
  if (auto ok = detail::confine(spec, conf); !ok) return detail::with_context(ok.error(), ctx);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return detail::sys_fail(errno, "{}: socketpair", ctx);
  unique_fd mine(sv[0]), theirs(sv[1]);
  spec.pty_socket = theirs.get();

  auto which = detail::ve_namespaces(init);
  if (!which) return detail::with_context(which.error(), ctx);
  auto shell = spawn_in(init, *which, spec);
  if (!shell) return detail::unless_stopped(init, id_, detail::with_context(shell.error(), ctx));
  theirs.reset();
  auto master = receive_fd(mine.get());
  if (!master) {
    detail::logged(shell->signal(SIGKILL), ctx + ": kill the shell that sent no terminal");
    detail::logged(shell->wait(), ctx + ": reap the shell that sent no terminal");
    return detail::with_context(master.error(), ctx);
  }
  struct winsize ws {};
  if (::ioctl(opts.in_fd, TIOCGWINSZ, &ws) == 0) ::ioctl(master->get(), TIOCSWINSZ, &ws);
  {
    raw_terminal raw(opts.in_fd);
    relay(opts.in_fd, opts.out_fd, master->get(), *shell);
  }
  return shell->wait();
}

}  // namespace ovz::inline v0
