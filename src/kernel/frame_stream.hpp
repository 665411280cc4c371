#pragma once
// Typed frames on a connected byte stream (a socket, a pipe, ssh's stdin and stdout): a
// 4-byte type and an 8-byte length, both little-endian, then the payload. What moves a VE
// between hosts is a conversation of such frames; a stream that ends inside a frame is an
// error, never a short frame.

#include <ovz/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ovz::detail {

struct frame {
  std::uint32_t type = 0;
  std::string payload;
};

/// One end of a connected stream, and how long the peer may stay silent — sending nothing
/// while a frame is awaited, taking nothing while one is written — before the read or write
/// gives up with errc::timed_out (a hung host, a link that drops everything). 0: no limit.
struct stream_end {
  int fd = -1;
  std::chrono::milliseconds silence{0};
  stream_end(int fd_) : fd(fd_) {}  // NOLINT: a bare descriptor is a stream without a limit
  stream_end(int fd_, std::chrono::milliseconds silence_) : fd(fd_), silence(silence_) {}
};

/// Writes one frame (retrying short writes; EPIPE is an error, never a signal).
result<void> write_frame(const stream_end& s, std::uint32_t type, std::string_view payload);

/// Writes one frame as write_frame does unless the peer speaks (or hangs up) first: false
/// then, what it sent left unread and the frame perhaps written in part. A peer that gave
/// up and stopped reading says so rather than leaving the writer blocked on a full stream.
result<bool> write_frame_unless_heard(const stream_end& s, std::uint32_t type,
                                      std::string_view payload);

/// Reads one frame of at most `max_payload` bytes. errc::peer_failed (naming `what`) when
/// the stream ends before or inside it, or announces more than that.
result<frame> read_frame(const stream_end& s, std::size_t max_payload, std::string_view what);

}  // namespace ovz::detail
