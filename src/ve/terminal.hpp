#pragma once
// A terminal between the caller and a VE: the master side received from the VE, the
// caller's terminal in raw mode, and the relay between them (enter, console).

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <termios.h>

#include <optional>

namespace ovz::detail {

/// Receives one descriptor sent with SCM_RIGHTS over `sock` (the master side of a terminal
/// opened in a VE); nothing when the sender closed the socket first.
result<std::optional<unique_fd>> receive_fd(int sock);

/// Puts the caller's terminal in raw mode for the session and restores it afterwards.
class raw_terminal {
 public:
  explicit raw_terminal(int fd);
  ~raw_terminal();
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

 private:
  int fd_;
  struct termios saved_ {};
  bool active_ = false;
};

/// How a relay ends.
struct relay_ends {
  int pidfd = -1;  ///< when this process exits (what is left of its output is copied first)
  /// Typed at the start of a line (after Enter) and followed by '.', this detaches: vzctl's
  /// "Esc ." for a console. 0: no detach key.
  char detach = 0;
};

/// Relays `in` to `peer` and `peer` back to `out` until `peer` closes, `ends.pidfd` exits or
/// the detach sequence is typed. True when it was detached.
bool relay(int in, int out, int peer, relay_ends ends);

}  // namespace ovz::detail
