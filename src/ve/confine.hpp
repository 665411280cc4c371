#pragma once
// What confines a VE's processes: capabilities, seccomp, no_new_privs, RLIMIT_NOFILE. Worked
// out from CTID.conf by code that makes no system call (confinement_for), from the few facts
// of the host it needs, which gather_confine_inputs collects.

#include <ovz/config.hpp>
#include <ovz/fd.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>
#include <ovz/seccomp.hpp>
#include <ovz/security.hpp>

#include "kernel/seccomp.hpp"
#include "model/layout.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {

/// What the host bounds or holds for the confinement.
struct confine_inputs {
  std::uint64_t nr_open = 0;                     // fs.nr_open; 0: unknown
  std::optional<std::uint64_t> nofile_ceiling;   // the caller's hard RLIMIT_NOFILE, when it
                                                 // lacks CAP_SYS_RESOURCE to raise it
  std::optional<seccomp_profile> profile_file;   // SECCOMP_PROFILE's file, loaded
};

/// Reads what confinement_for needs of the host for these settings.
result<confine_inputs> gather_confine_inputs(const ve_security& sec);

struct confinement {
  std::vector<int> drop_capabilities;
  /// The profile the seccomp program is compiled from; none: unconfined.
  std::optional<seccomp_profile> seccomp;
  bool builtin_seccomp = false;  // exactly the built-in profile (its program is compiled once)
  /// The calls its monitor carries out for it (ve/syscall_broker.hpp), which its filter
  /// hands over: the mounts, names and quota of a VE without a user namespace or
  /// CAP_SYS_ADMIN; the quota of a VE in a user namespace.
  broker_scope broker = broker_scope::none;
  bool brokered() const { return broker != broker_scope::none; }
  /// The calls handed to a listener outside libovz: an OCI profile's SCMP_ACT_NOTIFY ones,
  /// whose listener goes to its listenerPath.
  std::vector<std::string> notify;
  bool no_new_privs = false;
  resource_limit nofile;
};

/// The confinement CTID.conf asks for: the capabilities the defaults and CAPABILITY drop, the
/// seccomp profile, no_new_privs, and RLIMIT_NOFILE from NUMFILE (never the caller's) within
/// what the host allows. No system call.
result<confinement> confinement_for(const ve_config& conf, const confine_inputs& host);

/// Sets `spec` up to start its process so confined (compiling the seccomp program).
result<void> confine(spawn_spec& spec, const confinement& c);

/// All three, for a command run in the running VE of `l`; a brokered one's filter goes to the
/// VE's monitor through the connection returned, which must stay open until the spawn
/// returned (none where the monitor does not broker: those calls then fail with ENOSYS).
result<unique_fd> confine(spawn_spec& spec, const ve_config& conf, const ve_paths& l);

}  // namespace ovz::detail
