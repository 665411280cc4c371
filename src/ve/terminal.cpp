#include "ve/terminal.hpp"

#include "fail.hpp"
#include "kernel/fd_passing.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace ovz::detail {
namespace {

enum class flow { moved, again, closed };

bool write_all(int to, const char* buf, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    ssize_t w = ::write(to, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    done += static_cast<std::size_t>(w);
  }
  return true;
}

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
  return write_all(to, buf, static_cast<std::size_t>(n)) ? flow::moved : flow::closed;
}

// The caller's input on its way to the VE, watching for the detach sequence: the key at the
// start of a line, then '.'. The key alone is held back until the next byte tells.
class detach_filter {
 public:
  explicit detach_filter(char key) : key_(key) {}

  // Copies one read from `in` to `to`; true when the detach sequence was typed.
  flow pass(int in, int to, bool& detached) {
    char buf[4096];
    ssize_t n;
    do {
      n = ::read(in, buf, sizeof buf);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) return flow::again;
    if (n <= 0) return flow::closed;
    std::string out;
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buf[i];
      if (held_) {
        held_ = false;
        if (c == '.') {
          detached = true;
          break;
        }
        out += key_;
      }
      if (key_ && c == key_ && at_line_start_) {
        held_ = true;
        continue;
      }
      out += c;
      at_line_start_ = c == '\r' || c == '\n';
    }
    return write_all(to, out.data(), out.size()) ? flow::moved : flow::closed;
  }

 private:
  char key_;
  bool at_line_start_ = true;
  bool held_ = false;
};

}  // namespace

result<std::optional<unique_fd>> receive_fd(int sock) {
  BOOST_OUTCOME_TRY(got, receive_with_fds(sock, 1, 1, "the terminal from the VE"));
  if (!got) return std::nullopt;
  if (got->bytes.size() != 1 || got->fds.empty())
    return fail(errc::child_failed, "the VE sent no terminal");
  return std::optional<unique_fd>(std::move(got->fds.front()));
}

raw_terminal::raw_terminal(int fd) : fd_(fd) {
  if (::isatty(fd) && ::tcgetattr(fd, &saved_) == 0) {
    struct termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
  }
}

raw_terminal::~raw_terminal() {
  if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
}

bool relay(int in, int out, int peer, relay_ends ends) {
  bool input_open = true;
  bool detached = false;
  detach_filter input(ends.detach);
  for (;;) {
    struct pollfd p[3] = {
        {input_open ? in : -1, POLLIN, 0}, {peer, POLLIN, 0}, {ends.pidfd, POLLIN, 0}};
    if (::poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (p[0].revents && input.pass(in, peer, detached) == flow::closed) input_open = false;
    if (detached) return true;
    if (p[1].revents & POLLIN) {
      if (copy(peer, out) == flow::closed) return false;
    } else if (p[1].revents & (POLLHUP | POLLERR)) {
      return false;
    }
    if (p[2].revents) {
      ::fcntl(peer, F_SETFL, O_NONBLOCK);
      while (copy(peer, out) == flow::moved) {
      }
      return false;
    }
  }
}

}  // namespace ovz::detail
