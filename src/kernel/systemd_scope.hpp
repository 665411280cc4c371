#pragma once
// Where the systemd cgroup manager puts a VE: the names of its scope and the cgroups systemd
// gives it. Pure naming, no system calls.
//
// A VE's cgroup path ("ovz/101": the state root's cgroup parent, the CTID) becomes the scope
// "ovz-ovz-101.scope" in machine.slice, the slice systemd keeps for containers and VMs
// (systemd.special(7); systemd-nspawn and podman put theirs there), so that the host's tools
// and resource settings treat VEs as containers. The scope is delegated; the VE's own cgroup
// is "ve" below it, where systemd never writes (a daemon-reload rewrites the scope's own
// limits, never those below it), and the VE's init may make its own sub-cgroups below that.

#include <optional>
#include <string>
#include <string_view>

namespace ovz::detail {

/// The slice VEs' scopes go in.
inline constexpr std::string_view ve_slice = "machine.slice";
/// The VE's cgroup below its scope.
inline constexpr std::string_view ve_leaf = "ve";

/// The scope of the VE cgroup `path`: "ovz-" and the path with '-' for '/'. A CTID is its last
/// component and has no '-', so two VEs never share a name. A byte a unit name may not hold
/// is written \xNN, as systemd-escape does.
std::string scope_unit(std::string_view path);
/// A scope and the slice it is in.
struct scope_place {
  std::string unit;
  std::string slice;
};

/// The scope a VE's cgroup path names in systemd's own terms, as a runtime's systemd driver is
/// given one (CTID.conf's CGROUP_PATH from OCI's "machine.slice:libpod:ID"): its last name a
/// scope, the others the slices systemd nests it in ("machine.slice/libpod-ID.scope",
/// "a.slice/a-b.slice/x.scope"). None for any other path: the VE's scope is then
/// scope_unit(path) in ve_slice.
std::optional<scope_place> named_scope(std::string_view path);
/// The scope of the VE cgroup `path`: named_scope's, or scope_unit's in ve_slice.
scope_place scope_of(std::string_view path);
/// What `systemctl status` shows of the scope: "libovz VE 101 (cgroup ovz/101)".
std::string scope_description(std::string_view path);
/// The cgroup systemd gives a unit of `slice` whose manager's cgroup is `manager_cgroup`
/// (relative to the hierarchy's root, "" for the root): a slice "a-b.slice" nests in
/// "a.slice", as systemd.slice(5) says.
std::string unit_cgroup(std::string_view manager_cgroup, std::string_view slice,
                        std::string_view unit);

}  // namespace ovz::detail
