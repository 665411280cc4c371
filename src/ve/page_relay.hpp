#pragma once
// A dump's memory sent straight to the other side of a migration, where CRIU's page server
// writes it into the images the VE is restored from: nothing of it is written here first.
// CRIU's dump speaks to a socket of ours (page_relay); its bytes go on the migration's
// stream as page-data frames, and the server's answers (whether it has the parent images,
// the final status) come back the same way (serve_pages at the other side).
//
//   sender                              receiver
//   pages NAME ("pre/N", "dump")   →    page server for that directory started
//   page-data…                     ↔    page-data…   (both ways while the dump runs)
//   page-data ""                   ↔    page-data "" (each side's end: once its own end of
//                                        the session is over, or the other side's came)
//
// Each side sends one empty page-data frame and reads the other's, in either order, so that
// the stream is back to the conversation's frames at the same point on both sides.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include "kernel/frame_stream.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

namespace ovz::detail {

/// The sending side of one dump's memory: socket() is for CRIU's dump (criu_dump_request's
/// page_server); a thread of its own relays between it and the stream until the session is
/// over at either end. Nothing else may use the stream meanwhile. The stream's limit on
/// silence holds for the session as a whole: neither the dump nor the other side saying
/// anything for that long ends it (errc::timed_out).
class page_relay {
 public:
  /// Tells the other side to serve the pages of `name` and starts the relay.
  static result<page_relay> open(const stream_end& s, std::string_view name);
  page_relay(page_relay&&) noexcept;
  page_relay& operator=(page_relay&&) = delete;
  /// finish(), its result lost: only where the dump's own failure is reported.
  ~page_relay();

  /// The dump's end of the session.
  int socket() const;

  /// Waits for the session's end at both sides (after the dump, or in its post-dump, when
  /// CRIU has had the server's final word). The bytes the dump sent; the relay's failure
  /// (a broken stream, the other side's error) otherwise, which also ends a dump still
  /// talking. Called again, the same answer.
  result<std::uint64_t> finish();

 private:
  struct session;
  explicit page_relay(std::unique_ptr<session> s);
  std::unique_ptr<session> s_;
};

/// The receiving side, after a pages frame: CRIU's page server writing into `dir` (made
/// here), `parent` (relative to it; empty: none) holding the previous dump's images, relayed
/// from the stream until both ends of the session are over. Whether the pages were all
/// written is the dump's to tell (the server's final status goes to it).
result<void> serve_pages(const stream_end& s, const std::filesystem::path& dir,
                         const std::string& parent);

}  // namespace ovz::detail
