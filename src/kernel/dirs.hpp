#pragma once
// Directories with exact modes, whatever the umask of the process that embeds the library.

#include <ovz/result.hpp>

#include <sys/types.h>

#include <filesystem>

namespace ovz::detail {

/// mkdir with exactly `mode`; an existing directory is fine (and keeps its mode).
result<void> make_dir(const std::filesystem::path& path, mode_t mode);

/// A directory that holds trees a VE or a tarball controls (`private/`, `template/`): 0700,
/// so that no host user but root reaches the setuid files and device nodes in them. Its
/// parents are made if missing; an existing one that others may enter (made 0755 by an older
/// libovz) is tightened to 0700.
result<void> make_root_only_dir(const std::filesystem::path& path);

}  // namespace ovz::detail
