#pragma once
// CRIU, spoken to as its own RPC service: `criu swrk FD`, one request per service process,
// over a SOCK_SEQPACKET pair, in the protobuf messages of the rpc.proto Debian's criu package
// ships (compiled with protoc-c at build time; Debian has no libcriu). The service is started
// with posix_spawn, safe in the embedding program's threads.

#include <ovz/result.hpp>

#include <cstdint>
#include <string>

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

}  // namespace ovz::detail
