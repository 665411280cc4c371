#pragma once
// The companion kernel module (kmod/) for tests: loaded from $OVZ_KMOD_DIR (the lab's) where
// it is not loaded yet, and checked free to go once a VE that used it stopped.

#include <ovz/ve.hpp>

namespace ovz::test {

/// Loads kmod/'s module from $OVZ_KMOD_DIR unless it is loaded; false (the test is skipped,
/// saying why) where neither is possible.
bool module_here();

/// delete_module("ovz"), not waiting: 0, or -1 with errno (EWOULDBLOCK while in use).
long unload_module();

/// Stops `v`, in use of the module while it runs (its registration, its binds), and checks
/// the module can go once it stopped (its mount namespace and monitor may take a moment to
/// end).
void stop_then_unload(ve& v);

}  // namespace ovz::test
