#pragma once
/// @file
/// The state root: the directory that holds every VE's config, private area and the templates.

#include <ovz/export.hpp>

#include <filesystem>

namespace ovz::inline v0 {

/// The installation default, like OpenVZ's /vz.
inline constexpr const char* default_state_root = "/var/lib/ovz";

/// The state root to use: `explicit_root` when given, else the environment variable
/// OVZ_ROOT when set and not empty, else default_state_root. The result is absolute.
OVZ_API std::filesystem::path resolve_state_root(const std::filesystem::path& explicit_root = {});

}  // namespace ovz::inline v0
