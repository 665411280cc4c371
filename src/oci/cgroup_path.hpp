#pragma once
// config.json's linux.cgroupsPath as CTID.conf's CGROUP_PATH: where the container's VE has its
// cgroup, in each hierarchy.

#include <ovz/result.hpp>

#include <string>
#include <string_view>

namespace ovz::detail {

/// The CGROUP_PATH for `given`, or "" (the VE's own cgroup under the state root's) when it is
/// empty. An absolute path is from the hierarchy's root, as runc and crun take it; a relative
/// one from `parent`, the state root's cgroup parent; systemd's "slice:prefix:name" (what
/// Podman and containerd give with --systemd-cgroup) is where systemd puts such a scope:
/// "a-b.slice:p:n" is /a.slice/a-b.slice/p-n.scope. errc::bad_config when the result is no
/// cgroup path (model/layout.hpp's given_cgroup).
result<std::string> oci_cgroup_path(std::string_view given, std::string_view parent);

}  // namespace ovz::detail
