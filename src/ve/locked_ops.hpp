#pragma once
// The bodies of VE operations, for a caller that holds the VE's ve_op (its lock among it)
// and does several of them as one: a migration checkpoints, sends, and then destroys the
// VE, or restores it when the other side failed, without ever letting go of the lock.

#include <ovz/checkpoint.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/ve.hpp>
#include <ovz/result.hpp>

#include "ve/ve_op.hpp"

#include <filesystem>
#include <optional>

namespace ovz::detail {

/// ve::checkpoint into `where`; `op` has the config and the live state.
result<void> checkpoint_locked(ve_op& op, const std::filesystem::path& where,
                               const checkpoint_options& opts);

/// ve::restore from `where`; `op` has the config and the live state.
result<void> restore_locked(ve_op& op, const std::filesystem::path& where);

/// ve::stop; `op` has the live state. `monitor` gets the VE's monitor, whose last output the
/// caller may wait for (finish_writer) once it has let go of the lock.
result<void> stop_locked(ve_op& op, const stop_options& opts, std::optional<process>& monitor);

/// ve::start, detached; `op` has the config and the live state.
result<void> start_locked(ve_op& op, const start_options& opts);

/// ve::destroy of the stopped VE; `op` has the live state.
result<void> destroy_locked(ve_op& op);

}  // namespace ovz::detail
