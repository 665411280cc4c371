#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/confine.hpp"
#include "ve/live_state.hpp"
#include "ve/monitor.hpp"
#include "ve/terminal.hpp"
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
result<int> ve::enter(const enter_options& opts) const {
  const auto ctx = fmt::format("VE {}: enter", id_.value());
  BOOST_OUTCOME_TRY(op, detail::ve_op::begin(*this, {.config = true}));
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
  spec.helper = detail::spawn_helper();
  // A stop racing the command shows as any of these steps failing.
  auto unless_stopped = [&](const error& e) {
    return detail::unless_stopped(op.cg(), op.layout, init, detail::with_context(e, ctx));
  };
  spec.prepare = [&](pid_t pid) {
    return op.cg().attach_beside(op.layout.cgroup, init.pid(), pid);
  };
  auto broker = detail::confine(spec, op.conf, op.layout);
  if (!broker) return detail::with_context(broker.error(), ctx);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return detail::sys_fail(errno, "{}: socketpair", ctx);
  unique_fd mine(sv[0]), theirs(sv[1]);
  spec.pty_socket = theirs.get();

  auto which = detail::ve_namespaces(init);
  if (!which) return unless_stopped(which.error());
  auto shell = spawn_in(init, *which, spec);
  if (!shell) return unless_stopped(shell.error());
  theirs.reset();
  auto master = [&]() -> result<unique_fd> {
    BOOST_OUTCOME_TRY(got, detail::receive_fd(mine.get()));
    if (!got) return detail::fail(errc::child_failed, "the VE's shell sent no terminal");
    return std::move(*got);
  }();
  if (!master) {
    detail::logged(shell->signal(SIGKILL), ctx + ": kill the shell that sent no terminal");
    detail::logged(shell->wait(), ctx + ": reap the shell that sent no terminal");
    return detail::with_context(master.error(), ctx);
  }
  struct winsize ws {};
  if (::ioctl(opts.in_fd, TIOCGWINSZ, &ws) == 0) ::ioctl(master->get(), TIOCSWINSZ, &ws);
  {
    detail::raw_terminal raw(opts.in_fd);
    detail::relay(opts.in_fd, opts.out_fd, master->get(), {.pidfd = shell->pidfd()});
  }
  return shell->wait();
}

}  // namespace ovz::inline v0
