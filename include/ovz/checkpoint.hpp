#pragma once
// Checkpointing a running VE (its processes, memory, open files, sockets) to disk and
// restoring it, here or on another host, is CRIU's work. What this host's CRIU can do.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <string>

namespace ovz::inline v0 {

/// The CRIU this host has.
struct checkpoint_tools {
  std::string criu_version;  ///< "3.17.1"
  /// Dirty-memory tracking: iterative pre-dumps, the basis of online migration.
  bool memory_tracking = false;
  /// Restore before every page is in (userfaultfd).
  bool lazy_pages = false;
};

/// How ve::checkpoint() goes.
struct checkpoint_options {
  /// The VE runs on once its image is written (a backup, a copy to start elsewhere); by
  /// default it stops then, as `vzctl chkpnt` does, and restore() brings it back.
  bool leave_running = false;
};

/// Whether VEs can be checkpointed here: CRIU installed ($OVZ_CRIU names another program) and
/// its own check of this kernel passed. Asked once per process. The error is
/// errc::unsupported with CRIU's reason (e.g. a kernel whose vDSO it cannot parse).
OVZ_API result<void> checkpoint_supported();

/// The CRIU version and the features it finds on this kernel.
OVZ_API result<checkpoint_tools> checkpoint_tools_here();

}  // namespace ovz::inline v0
