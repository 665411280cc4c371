#pragma once
// Descriptors passed over a unix socket with a message (SCM_RIGHTS): a terminal's master from
// a VE, a restored init's console and sockets to its monitor, CRIU's notifications.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

struct fd_message {
  std::string bytes;
  std::vector<unique_fd> fds;  // in the order sent, close-on-exec
};

/// Receives one message of up to `max_bytes` with up to `max_fds` descriptors (more are
/// closed); nothing when the peer closed the socket. `what` names it in errors.
result<std::optional<fd_message>> receive_with_fds(int sock, std::size_t max_bytes,
                                                   std::size_t max_fds, std::string_view what);

/// Sends `bytes` (not empty) with `fds`.
result<void> send_with_fds(int sock, std::string_view bytes, std::span<const int> fds,
                           std::string_view what);

}  // namespace ovz::detail
