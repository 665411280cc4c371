#pragma once
/// @file
/// Moving a VE to another state root, on this host or another (vzmigrate): over a connected
/// stream the caller provides, so that any transport carries it — a socket pair between two
/// threads, a TCP connection, ssh's stdin and stdout (what `ovzctl migrate` uses).

#include <ovz/ctid.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <chrono>
#include <filesystem>

namespace ovz::inline v0 {

/// How ve::migrate() moves a running VE (a stopped one is moved as it is, and stays stopped).
struct migrate_options {
  /// Its processes go with it (a checkpoint sent and restored there: the same PIDs, open
  /// files and TCP connections; needs checkpoint_supported() on both sides). Otherwise it
  /// is stopped here and started there, as vzmigrate does without --online.
  bool online = false;
  /// How long the other side may stay silent — taking none of what is sent, sending nothing
  /// while its answer is awaited — before the move gives up with errc::timed_out (a hung
  /// host, a link that drops everything); 0: no limit. Before done is sent the VE then runs
  /// here again, as after any failure; waiting for the answer to done it is in doubt
  /// (errc::in_doubt), so the limit must cover the other side's start or restore of the VE.
  std::chrono::milliseconds timeout{0};
};

/// The receiving side of ve::migrate(): takes the VE that comes over `fd` into
/// `state_root` (resolve_state_root() applied), and starts or restores it as it ran at the
/// source. Refused before the source touches its VE: a CTID this root has, a template it has
/// not. On any failure nothing of the VE stays here, and the source is told why (it runs its
/// VE again). Returns the CTID received.
OVZ_API result<ctid> receive_ve(int fd, const std::filesystem::path& state_root = {});

}  // namespace ovz::inline v0
