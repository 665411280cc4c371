#pragma once
// Typed frames on a connected byte stream (a socket, a pipe, ssh's stdin and stdout): a
// 4-byte type and an 8-byte length, both little-endian, then the payload. What moves a VE
// between hosts is a conversation of such frames; a stream that ends inside a frame is an
// error, never a short frame.

#include <ovz/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace ovz::detail {

struct frame {
  std::uint32_t type = 0;
  std::string payload;
};

/// Writes one frame (retrying short writes; EPIPE is an error, never a signal).
result<void> write_frame(int fd, std::uint32_t type, std::string_view payload);

/// Writes one frame as write_frame does unless the peer speaks (or hangs up) first: false
/// then, what it sent left unread and the frame perhaps written in part. A peer that gave
/// up and stopped reading says so rather than leaving the writer blocked on a full stream.
result<bool> write_frame_unless_heard(int fd, std::uint32_t type, std::string_view payload);

/// Reads one frame of at most `max_payload` bytes. errc::peer_failed (naming `what`) when
/// the stream ends before or inside it, or announces more than that.
result<frame> read_frame(int fd, std::size_t max_payload, std::string_view what);

}  // namespace ovz::detail
