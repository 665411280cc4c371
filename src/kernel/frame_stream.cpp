#include "kernel/frame_stream.hpp"

#include "fail.hpp"

#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace ovz::detail {
namespace {

constexpr std::size_t header_size = 12;

// send() where the descriptor is a socket, so that a peer gone is EPIPE and not SIGPIPE in
// the embedding program; write() on a pipe (whose writer has SIGPIPE as the caller set it).
// `now`: only what fits without waiting (on a pipe no more than PIPE_BUF, the room poll's
// POLLOUT promises).
ssize_t put(int fd, const char* p, std::size_t n, bool now) {
  ssize_t done = ::send(fd, p, n, MSG_NOSIGNAL | (now ? MSG_DONTWAIT : 0));
  if (done < 0 && errno == ENOTSOCK)
    done = ::write(fd, p, now ? std::min<std::size_t>(n, PIPE_BUF) : n);
  return done;
}

// Writes all of p. `listen`: waiting for room or a word from the peer, whichever comes
// first; false at the word.
result<bool> write_all(int fd, const char* p, std::size_t n, bool listen) {
  while (n > 0) {
    if (listen) {
      pollfd pf{.fd = fd, .events = POLLIN | POLLOUT, .revents = 0};
      if (::poll(&pf, 1, -1) < 0) {
        if (errno == EINTR) continue;
        return sys_fail(errno, "poll the stream");
      }
      if (pf.revents & (POLLIN | POLLHUP | POLLERR)) return false;
    }
    const ssize_t done = put(fd, p, n, listen);
    // EAGAIN only where poll said there was room (another writer took it).
    if (done < 0 && (errno == EINTR || (listen && errno == EAGAIN))) continue;
    if (done < 0) return sys_fail(errno, "write to the stream");
    p += done;
    n -= static_cast<std::size_t>(done);
  }
  return true;
}

// Reads exactly n bytes; false at end of stream before them.
result<bool> read_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return sys_fail(errno, "read from the stream");
    if (got == 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

// One frame, as write_all writes.
result<bool> write_whole_frame(int fd, std::uint32_t type, std::string_view payload,
                               bool listen) {
  std::array<char, header_size> h{};
  const std::uint64_t len = payload.size();
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(type >> (8 * i));
  for (int i = 0; i < 8; ++i) h[4 + i] = static_cast<char>(len >> (8 * i));
  BOOST_OUTCOME_TRY(whole, write_all(fd, h.data(), h.size(), listen));
  if (!whole) return false;
  return write_all(fd, payload.data(), payload.size(), listen);
}

}  // namespace

result<void> write_frame(int fd, std::uint32_t type, std::string_view payload) {
  BOOST_OUTCOME_TRY(write_whole_frame(fd, type, payload, false));
  return success();
}

result<bool> write_frame_unless_heard(int fd, std::uint32_t type, std::string_view payload) {
  return write_whole_frame(fd, type, payload, true);
}

result<frame> read_frame(int fd, std::size_t max_payload, std::string_view what) {
  std::array<unsigned char, header_size> h{};
  BOOST_OUTCOME_TRY(whole, read_exact(fd, reinterpret_cast<char*>(h.data()), h.size()));
  if (!whole) return fail(errc::peer_failed, "the stream ended where {} was due", what);
  frame f;
  std::uint64_t len = 0;
  for (int i = 0; i < 4; ++i) f.type |= static_cast<std::uint32_t>(h[i]) << (8 * i);
  for (int i = 0; i < 8; ++i) len |= static_cast<std::uint64_t>(h[4 + i]) << (8 * i);
  if (len > max_payload)
    return fail(errc::peer_failed, "{}: a frame of {} bytes (at most {} expected)", what, len,
                max_payload);
  f.payload.resize(len);
  BOOST_OUTCOME_TRY(complete, read_exact(fd, f.payload.data(), f.payload.size()));
  if (!complete) return fail(errc::peer_failed, "the stream ended inside {}", what);
  return f;
}

}  // namespace ovz::detail
