#pragma once
// CRIU, spoken to as its own RPC service: `criu swrk FD`, one request per service process,
// over a SOCK_SEQPACKET pair, in the protobuf messages of the rpc.proto Debian's criu package
// ships (compiled with protoc-c at build time; Debian has no libcriu). The service is started
// with posix_spawn, safe in the embedding program's threads.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

struct criu_version {
  int major = 0, minor = 0, sublevel = 0;
  std::string gitid;
  std::string text() const;  // "3.17.1"
};

/// What CRIU can do besides a plain dump on this kernel (FEATURE_CHECK).
struct criu_features {
  bool mem_track = false;   // dirty-page tracking: iterative pre-dumps, online migration
  bool lazy_pages = false;  // userfaultfd: restore before all pages are in
  bool pidfd_store = false;
};

/// The `criu` program libovz runs: $OVZ_CRIU if set, else criu from PATH.
std::string criu_program();

result<criu_version> criu_version_of();
/// None where CRIU cannot look at this kernel at all (criu_kernel_check() says why).
result<criu_features> criu_features_of();

/// CRIU's own check of this kernel (CHECK): errc::unsupported with CRIU's reason when it
/// cannot checkpoint here. Asked once per process; later calls give the same answer.
const result<void>& criu_kernel_check();

/// What CRIU tells while it works (its "action scripts"), before it goes on: "network-lock",
/// "post-dump", "setup-namespaces" (the restored init's `pid` exists, in its namespaces, and
/// waits), "post-restore", "orphan-pts-master" (`fd`: the master of a terminal whose slave it
/// restored without one, e.g. a VE's console). An error from the handler fails the request.
struct criu_notice {
  std::string_view script;
  pid_t pid = 0;
  unique_fd fd{};
};
using criu_notify = std::function<result<void>(criu_notice&)>;

/// Starts CRIU's service for one request: `criu_program() swrk FD`, FD being `their_end`
/// where the service runs, its output to `output`. The default runs it as our child; a
/// restore runs it as the child of the VE's monitor, so that the restored init (its sibling)
/// is the monitor's child too.
using criu_launcher = std::function<result<void>(int their_end, int output)>;

/// What both a dump and a restore take.
struct criu_common {
  int images_dir = -1;  // the checkpoint's directory, open
  std::string log_file;  // written there
  /// --external: mounts ("mnt[KEY]:VAL"), devices and network ends the VE has from the host.
  std::vector<std::string> externals;
};

struct criu_dump_request : criu_common {
  pid_t pid = 0;               // the VE's init: its tree is dumped
  std::string freeze_cgroup;   // the cgroup CRIU freezes (and finds frozen)
  bool leave_running = false;  // else the tree is killed once dumped
  /// A pre-dump: the memory only, the tree running on after a brief freeze.
  bool pre_dump = false;
  /// Dirty-memory tracking from this dump on, for a later one to write only what changed.
  bool track_mem = false;
  /// The images of the previous (pre-)dump, relative to this one's directory ("../1"):
  /// pages unchanged since are found there.
  std::string parent_img;
  /// Where CRIU searches, recursively and inside the tree's root, for the files of inotify
  /// watches it cannot find again by file handle (overlayfs gives none it can open).
  std::vector<std::string> irmap_scan_paths;
  /// A connected socket to a page server (criu_page_server, maybe on another host through
  /// a relay): the memory goes there instead of into the images directory. -1: none.
  int page_server = -1;
};

/// A page server for one (pre-)dump: takes the pages a dump sends over `socket` into the
/// images directory, `parent_img` (relative to it) naming the previous dump's, whose
/// unchanged pages it does not take again.
struct criu_page_server_request : criu_common {
  int socket = -1;
  std::string parent_img;
};

struct criu_restore_request : criu_common {
  std::string root;  // the VE's root, mounted where CRIU sees it
  /// The VE's cgroup as /proc/PID/cgroup names it: CRIU puts the restored tasks in it and in
  /// the sub-cgroups they were in (made where missing), their cgroup namespace rooted at it.
  std::string cgroup_root;
  /// Descriptors of ours given to the restored processes in place of what the images call
  /// `key` ("tty[RDEV:DEV]", "pipe:[INO]").
  std::vector<std::pair<std::string, int>> inherit;
};

/// Dumps (or pre-dumps) the tree of `r.pid` into the images directory. On failure the error
/// carries CRIU's error lines from its log, and the tree runs on.
result<void> criu_dump(const criu_dump_request& r, const criu_notify& notify);

/// Starts a page server for `r` in a process of its own, which serves until the dump at the
/// other end of the socket closes the session (and answers it a status). Returns once it
/// serves.
result<void> criu_page_server(const criu_page_server_request& r);

/// Restores the tree in the images directory, its init a sibling of the service `launch`
/// started. Returns the init's PID (in our PID namespace).
result<pid_t> criu_restore(const criu_restore_request& r, const criu_launcher& launch,
                           const criu_notify& notify, unique_fd* conversation = nullptr);

}  // namespace ovz::detail
