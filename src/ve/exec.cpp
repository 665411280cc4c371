#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/layout.hpp"
#include "ve/confine.hpp"
#include "ve/live_state.hpp"
#include "ve/monitor.hpp"
#include "ve/ve_environment.hpp"
#include "ve/ve_namespaces.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ovz::inline v0 {
namespace {

// Reads whatever is available; false once the pipe is at end-of-file.
bool drain(int fd, std::string& into) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

// Collects stdout and stderr until both close or the command exits. A daemon the command left
// running in the background may keep the pipes open; the command's exit ends the wait.
void collect(process& child, unique_fd& out, unique_fd& err, exec_result& res) {
  for (auto* fd : {&out, &err})
    if (*fd) ::fcntl(fd->get(), F_SETFL, O_NONBLOCK);
  bool exited = false;
  while ((out || err) && !exited) {
    struct pollfd p[3] = {{out ? out.get() : -1, POLLIN, 0},
                          {err ? err.get() : -1, POLLIN, 0},
                          {child.pidfd(), POLLIN, 0}};
    if (::poll(p, 3, -1) < 0 && errno != EINTR) break;
    if (p[2].revents) exited = true;
    if (out && p[0].revents && !drain(out.get(), res.out)) out.reset();
    if (err && p[1].revents && !drain(err.get(), res.err)) err.reset();
  }
  if (out) drain(out.get(), res.out);
  if (err) drain(err.get(), res.err);
}

}  // namespace

result<exec_result> ve::exec(const std::vector<std::string>& argv, const exec_options& opts) const {
  const auto ctx = fmt::format("VE {}: exec {}", id_.value(), argv.empty() ? "" : argv[0]);
  if (argv.empty()) return detail::fail(errc::invalid_argument, "{}: empty command", ctx);
  // A host directory handed in would be a way out of the VE's root (fchdir, then "..").
  for (int fd : {opts.stdin_fd, opts.stdout_fd, opts.stderr_fd}) {
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
      return detail::fail(errc::invalid_argument,
                          "{}: descriptor {} is a directory, which would lead out of the VE",
                          ctx, fd);
  }
  BOOST_OUTCOME_TRY(op, detail::ve_op::begin(*this, {.config = true}));
  BOOST_OUTCOME_TRY(init, detail::running_init(op.cg(), op.layout, id_));

  unique_fd out_r, out_w, err_r, err_w;
  auto capture = [&](int given, unique_fd& r, unique_fd& w) -> result<int> {
    if (given >= 0) return given;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return detail::sys_fail(errno, "{}: pipe2", ctx);
    r.reset(fds[0]);
    w.reset(fds[1]);
    return fds[1];
  };
  spawn_spec spec;
  spec.argv = argv;
  spec.env = opts.env.empty() ? detail::ve_environment() : opts.env;
  spec.cwd = opts.cwd;
  // A session of its own inside the VE: one it left running (a daemon started by hand) must
  // not belong to a session led outside, which the VE could not be checkpointed with.
  spec.new_session = true;
  spec.helper = detail::spawn_helper();
  spec.stdin_fd = opts.stdin_fd;
  BOOST_OUTCOME_TRY(out_fd, capture(opts.stdout_fd, out_r, out_w));
  BOOST_OUTCOME_TRY(err_fd, capture(opts.stderr_fd, err_r, err_w));
  spec.stdout_fd = out_fd;
  spec.stderr_fd = err_fd;
  // A stop racing the command shows as any of these steps failing.
  auto unless_stopped = [&](const error& e) {
    return detail::unless_stopped(op.cg(), op.layout, init, detail::with_context(e, ctx));
  };
  // The command itself, which `started` names: what spawn_in returns is the process that
  // entered the VE's PID namespace for it and waits for it.
  pid_t command = 0;
  spec.prepare = [&](pid_t pid) {
    command = pid;
    return op.cg().attach_beside(op.layout.cgroup, init.pid(), pid);
  };
  auto broker = detail::confine(spec, op.conf, op.layout);
  if (!broker) return detail::with_context(broker.error(), ctx);

  auto which = detail::ve_namespaces(init);
  if (!which) return unless_stopped(which.error());
  auto child = spawn_in(init, *which, spec);
  if (!child) return unless_stopped(child.error());
  if (opts.started) opts.started(command);
  out_w.reset();
  err_w.reset();
  exec_result res;
  collect(*child, out_r, err_r, res);
  BOOST_OUTCOME_TRY(code, child->wait());
  res.exit_code = code;
  return res;
}

}  // namespace ovz::inline v0
