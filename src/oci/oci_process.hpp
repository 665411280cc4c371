#pragma once
// What config.json's process (or exec's process file) makes of a spawn: the program, its
// environment and directory, the user it runs as, its limits, capabilities and
// no_new_privileges, and its stdio or terminal. Shared by create's process and exec's.

#include <ovz/namespaces.hpp>
#include <ovz/oci_bundle.hpp>
#include <ovz/oci_container.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ovz::detail {

/// The capabilities its bounding set loses: all this kernel has but the process's bounding
/// set, or without a capabilities object, but the set runc and Podman give by default.
std::vector<int> dropped_capabilities(const oci_process& p);

/// The home directory of `uid` in the /etc/passwd of the root `rootfs` (looked up inside it:
/// its symlinks cannot lead out), "/" when it has none.
std::string home_in(const std::filesystem::path& rootfs, unsigned uid);

/// Sets `spec` up to run `p` in the root `rootfs`. Without HOME in its environment it gets its
/// user's, as runc gives it.
void set_process(spawn_spec& spec, const oci_process& p, const oci_io& io,
                 const std::filesystem::path& rootfs);

}  // namespace ovz::detail
