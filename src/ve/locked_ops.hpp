#pragma once
// The bodies of VE operations, for a caller that holds the VE's ve_op (its lock among it)
// and does several of them as one: a migration checkpoints, sends, and then destroys the
// VE, or restores it when the other side failed, without ever letting go of the lock.

#include <ovz/checkpoint.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/ve.hpp>
#include <ovz/result.hpp>

#include "ve/ve_op.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <optional>

namespace ovz::detail {

/// Where a dump's memory goes on from: a migration's previous pre-dump.
struct dump_chain {
  std::string parent_img;  ///< relative to the dump's directory ("../1"); empty: none
  bool track_mem = false;  ///< dirty-memory tracking from this dump on
  /// A page session's socket (page_relay) the memory goes to instead of the images
  /// directory, where the previous dump's memory went too; -1: none.
  int page_server = -1;
};

/// Called inside a dump once every image is written, the VE's processes still held and its
/// network locked (CRIU's post-dump), with the images' directory: a migration hands the VE
/// over there. Its success lets the dump end the processes; its error lets them run on (still
/// frozen when they were frozen before the dump) and fails the dump with it.
using images_written = std::function<result<void>(const std::filesystem::path& images)>;

/// ve::checkpoint into `where`; `op` has the config and the live state.
result<void> checkpoint_locked(ve_op& op, const std::filesystem::path& where,
                               const checkpoint_options& opts, const dump_chain& chain = {},
                               const images_written& hand_over = {});

/// A pre-dump of the running VE's memory into `where` (made here), the VE running on after
/// a brief freeze.
result<void> predump_locked(ve_op& op, const std::filesystem::path& where,
                            const dump_chain& chain);

/// ve::restore from `where`; `op` has the config and the live state.
result<void> restore_locked(ve_op& op, const std::filesystem::path& where);

/// ve::stop; `op` has the live state. `monitor` gets the VE's monitor, whose last output the
/// caller may wait for (finish_writer) once it has let go of the lock.
result<void> stop_locked(ve_op& op, const stop_options& opts, std::optional<process>& monitor);

/// ve::start, detached; `op` has the config and the live state.
result<void> start_locked(ve_op& op, const start_options& opts);

/// The running VE's cgroup frozen, every task stopped where it stands; a freeze that fails
/// lets them all run on again. `doing` names the operation in the error.
result<void> freeze_locked(ve_op& op, std::string_view doing);

/// The mark that tells a suspended VE from one frozen briefly (a stop, a dump).
result<void> mark_suspended(const ve_op& op);

/// ve::suspend of the running VE, frozen or not: frozen and marked; `op` has the live state.
result<void> suspend_locked(ve_op& op);

/// ve::resume of the running VE: its host side put back where a migration in doubt set it
/// aside, then thawed; `op` has the live state.
result<void> resume_locked(ve_op& op);

/// ve::destroy of the stopped VE; `op` has the live state.
result<void> destroy_locked(ve_op& op);

}  // namespace ovz::detail
