#pragma once
// VEs in a user namespace of their own (CTID.conf USERNS="yes", USERNS_MAP="<base>:<count>"):
// root inside is host uid `base`, the template is shown to them through an idmapped mount,
// and the VE's files in its private area belong to base+N. The range is chosen at create and
// kept for the VE's life, as its files' owners depend on it: an existing VE cannot be switched
// to or from a user namespace.

#include <ovz/config.hpp>
#include <ovz/ctid.hpp>
#include <ovz/fd.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "model/id_range.hpp"
#include "model/layout.hpp"
#include "ve/plan.hpp"
#include "ve/storage.hpp"

#include <filesystem>
#include <optional>
#include <vector>

namespace ovz::detail {

/// The VE's host id range when CTID.conf puts it in a user namespace, nullopt when it does
/// not; errc::bad_config when USERNS and USERNS_MAP disagree (a hand-edited switch).
result<std::optional<id_range>> userns_range(const ve_config& conf);

/// A range chosen for a new VE, held by the state root's id lock: another create under the
/// same root waits until this one has saved its config (or given up), then sees the range.
struct id_allocation {
  unique_fd lock;
  id_range range;
};
/// The lowest free range (see free_id_range) that no VE under the state root and no
/// /etc/subuid or /etc/subgid entry holds.
result<id_allocation> allocate_ids(const std::filesystem::path& state_root);

/// Records the range in CTID.conf (the storage was made with r.base as its root's owner).
result<void> adopt_ids(ve_config& conf, const id_range& r);

/// The id maps of a VE in a user namespace mapped to `r`: root inside is host id r.base.
std::vector<id_map> userns_maps(const id_range& r);

/// Makes the root of a VE in a user namespace mapped to `r`: its storage shown id-shifted
/// (ve_storage::shifted_root), once checked that the VE's root may use it. The caller passes
/// it to the init to attach and keeps it open until the init has.
result<unique_fd> userns_root(const ve_layout& l, const ve_storage& storage, const id_range& r);

/// The VE's root walks from / to its mount point `target` as the host id of its root before
/// pivot_root: errc::invalid_argument, saying which to chmod, when a directory on the way
/// keeps it out.
result<void> check_reachable(const std::filesystem::path& target, const userns_plan& ns);

/// True when the process runs in a user namespace other than ours (a VE's init).
result<bool> in_other_userns(pid_t pid);

}  // namespace ovz::detail
