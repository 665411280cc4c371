#pragma once
/// @file
/// Moving a VE to another state root, on this host or another (vzmigrate): over a connected
/// stream the caller provides, so that any transport carries it — a socket pair between two
/// threads, a TCP connection, ssh's stdin and stdout (what `ovzctl migrate` uses).

#include <ovz/ctid.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <filesystem>

namespace ovz::inline v0 {

/// How ve::migrate() moves a running VE (a stopped one is moved as it is, and stays stopped).
struct migrate_options {
  /// Its processes go with it (a checkpoint sent and restored there: the same PIDs, open
  /// files and TCP connections; needs checkpoint_supported() on both sides). Otherwise it
  /// is stopped here and started there, as vzmigrate does without --online.
  bool online = false;
};

/// The receiving side of ve::migrate(): takes the VE that comes over `fd` into
/// `state_root` (resolve_state_root() applied), and starts or restores it as it ran at the
/// source. Refused before the source touches its VE: a CTID this root has, a template it has
/// not. On any failure nothing of the VE stays here, and the source is told why (it runs its
/// VE again). Returns the CTID received.
OVZ_API result<ctid> receive_ve(int fd, const std::filesystem::path& state_root = {});

}  // namespace ovz::inline v0
