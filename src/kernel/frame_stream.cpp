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

// Waits until the stream is ready for one of `events` (or hung up), within the peer's
// allowed silence. What poll reported.
result<short> wait_for(const stream_end& s, short events) {
  const int timeout = s.silence.count() > 0 ? static_cast<int>(s.silence.count()) : -1;
  for (;;) {
    pollfd pf{.fd = s.fd, .events = events, .revents = 0};
    const int ready = ::poll(&pf, 1, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return sys_fail(errno, "poll the stream");
    if (ready == 0)
      return fail(errc::timed_out, "the other side {} for {} ms",
                  events & POLLOUT ? "took nothing and said nothing" : "said nothing",
                  s.silence.count());
    return pf.revents;
  }
}

// Writes all of p. `listen`: waiting for room or a word from the peer, whichever comes
// first; false at the word. With a limit on the peer's silence, every write waits for room
// first and puts only what fits.
result<bool> write_all(const stream_end& s, const char* p, std::size_t n, bool listen) {
  const bool waits = listen || s.silence.count() > 0;
  while (n > 0) {
    if (waits) {
      BOOST_OUTCOME_TRY(revents, wait_for(s, listen ? POLLIN | POLLOUT : POLLOUT));
      if (listen && (revents & (POLLIN | POLLHUP | POLLERR))) return false;
    }
    const ssize_t done = put(s.fd, p, n, waits);
    // EAGAIN only where poll said there was room (another writer took it).
    if (done < 0 && (errno == EINTR || (waits && errno == EAGAIN))) continue;
    if (done < 0) return sys_fail(errno, "write to the stream");
    p += done;
    n -= static_cast<std::size_t>(done);
  }
  return true;
}

// Reads exactly n bytes; false at end of stream before them.
result<bool> read_exact(const stream_end& s, char* p, std::size_t n) {
  while (n > 0) {
    if (s.silence.count() > 0) {
      BOOST_OUTCOME_TRY(wait_for(s, POLLIN));
    }
    const ssize_t got = ::read(s.fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return sys_fail(errno, "read from the stream");
    if (got == 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

// One frame, as write_all writes.
result<bool> write_whole_frame(const stream_end& s, std::uint32_t type,
                               std::string_view payload, bool listen) {
  std::array<char, header_size> h{};
  const std::uint64_t len = payload.size();
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(type >> (8 * i));
  for (int i = 0; i < 8; ++i) h[4 + i] = static_cast<char>(len >> (8 * i));
  BOOST_OUTCOME_TRY(whole, write_all(s, h.data(), h.size(), listen));
  if (!whole) return false;
  return write_all(s, payload.data(), payload.size(), listen);
}

}  // namespace

result<void> write_frame(const stream_end& s, std::uint32_t type, std::string_view payload) {
  BOOST_OUTCOME_TRY(write_whole_frame(s, type, payload, false));
  return success();
}

result<bool> write_frame_unless_heard(const stream_end& s, std::uint32_t type,
                                      std::string_view payload) {
  return write_whole_frame(s, type, payload, true);
}

result<frame> read_frame(const stream_end& s, std::size_t max_payload, std::string_view what) {
  std::array<unsigned char, header_size> h{};
  BOOST_OUTCOME_TRY(whole, read_exact(s, reinterpret_cast<char*>(h.data()), h.size()));
  if (!whole) return fail(errc::peer_failed, "the stream ended where {} was due", what);
  frame f;
  std::uint64_t len = 0;
  for (int i = 0; i < 4; ++i) f.type |= static_cast<std::uint32_t>(h[i]) << (8 * i);
  for (int i = 0; i < 8; ++i) len |= static_cast<std::uint64_t>(h[4 + i]) << (8 * i);
  if (len > max_payload)
    return fail(errc::peer_failed, "{}: a frame of {} bytes (at most {} expected)", what, len,
                max_payload);
  f.payload.resize(len);
  BOOST_OUTCOME_TRY(complete, read_exact(s, f.payload.data(), f.payload.size()));
  if (!complete) return fail(errc::peer_failed, "the stream ended inside {}", what);
  return f;
}

}  // namespace ovz::detail
