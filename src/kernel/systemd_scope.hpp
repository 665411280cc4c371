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
/// What `systemctl status` shows of the scope: "libovz VE 101 (cgroup ovz/101)".
std::string scope_description(std::string_view path);
/// The cgroup systemd gives a unit of `slice` whose manager's cgroup is `manager_cgroup`
/// (relative to the hierarchy's root, "" for the root): a slice "a-b.slice" nests in
/// "a.slice", as systemd.slice(5) says.
std::string unit_cgroup(std::string_view manager_cgroup, std::string_view slice,
                        std::string_view unit);

}  // namespace ovz::detail
