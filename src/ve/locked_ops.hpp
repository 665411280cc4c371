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
#include <string>
#include <optional>

namespace ovz::detail {

/// Where a dump's memory goes on from: a migration's previous pre-dump.
struct dump_chain {
  std::string parent_img;  ///< relative to the dump's directory ("../1"); empty: none
  bool track_mem = false;  ///< dirty-memory tracking from this dump on
};

/// ve::checkpoint into `where`; `op` has the config and the live state.
result<void> checkpoint_locked(ve_op& op, const std::filesystem::path& where,
                               const checkpoint_options& opts, const dump_chain& chain = {});

/// A pre-dump of the running VE's memory into `where` (made here), the VE running on after
/// a brief freeze. The bytes of memory it wrote.
result<std::uint64_t> predump_locked(ve_op& op, const std::filesystem::path& where,
                                     const dump_chain& chain);

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
