// Attaching to a running VE's console, which its monitor serves (ve/monitor.hpp).

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "ve/live_state.hpp"
#include "ve/monitor.hpp"
#include "ve/terminal.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace ovz::detail {
namespace {

// The monitor's first byte to a client it has taken on (console_welcome). A monitor busy
// starting up answers within milliseconds, one under emulation within a second or two.
result<void> await_welcome(int sock, const std::filesystem::path& path) {
  pollfd p{sock, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, 10000)) < 0 && errno == EINTR) {
  }
  if (n < 0) return sys_fail(errno, "console: poll {}", path.string());
  char c = 0;
  if (n == 0 || ::recv(sock, &c, 1, 0) != 1 || c != console_welcome)
    return fail(errc::not_running,
                "console: the monitor at {} did not take the connection on (started by an "
                "older libovz? restart the VE)",
                path.string());
  return success();
}

}  // namespace
}  // namespace ovz::detail

namespace ovz::inline v0 {

result<unique_fd> ve::open_console() const {
  return detail::ve_op::run(*this, {.live = true}, [&](detail::ve_op& op) -> result<unique_fd> {
    if (!op.live.init_pid)
      return detail::fail(errc::not_running, "{} is not running: start it first", op.context());
    const auto& path = op.layout.console_socket;
    auto sock = detail::connect_to(path);
    if (!sock && (sock.error().sys_errno() == ENOENT || sock.error().sys_errno() == ECONNREFUSED))
      return detail::fail(errc::not_running,
                          "console: {} has no monitor to serve it (started by an older "
                          "libovz? restart it)",
                          path.string());
    if (!sock) return detail::with_context(sock.error(), "console");
    BOOST_OUTCOME_TRY(detail::await_welcome(sock->get(), path));
    return sock;
  });
}

result<bool> ve::console(const console_options& opts) const {
  BOOST_OUTCOME_TRY(sock, open_console());
  detail::raw_terminal raw(opts.in_fd);
  return detail::relay(opts.in_fd, opts.out_fd, sock.get(), {.detach = opts.detach_key});
}

}  // namespace ovz::inline v0
