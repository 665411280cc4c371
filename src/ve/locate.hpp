#pragma once
// A VE's layout with its cgroup named after the state root's identity (model/layout.hpp):
// the stat that identifies the root is made here, so that model/ stays free of system calls.

#include <ovz/config.hpp>
#include <ovz/ctid.hpp>
#include <ovz/result.hpp>
#include <ovz/state_root.hpp>

#include "model/layout.hpp"

#include <filesystem>
#include <optional>

namespace ovz::detail {

/// The identity of the directory `state_root`; `installation` when it is the same directory
/// as `default_root`, however either is spelled. errc::not_found when it does not exist.
result<root_identity> identify_state_root(const std::filesystem::path& state_root,
                                          const std::filesystem::path& default_root =
                                              default_state_root);

/// The VE's layout, its cgroup included: the state root's, or the one CTID.conf's
/// CGROUP_PATH gives. errc::not_found (the VE does not exist) when the state root does not
/// exist; errc::bad_config when CGROUP_PATH is no cgroup path. `parsed`, where given, gets
/// CTID.conf as read for it, if it parsed: a caller holding no lock need not read it again.
result<ve_layout> locate(const std::filesystem::path& state_root, ctid id,
                         std::optional<ve_config>* parsed = nullptr);

}  // namespace ovz::detail
