#pragma once
// A kernel setting under /proc/sys raised to what a host of many VEs needs, never lowered: a
// host administrator's higher value stays.

#include <ovz/result.hpp>

#include <cstdint>
#include <string_view>

namespace ovz::detail {

/// Raises the sysctl `name` ("fs.inotify.max_user_instances") to at least `floor`; true when it
/// was lower.
result<bool> raise_sysctl(std::string_view name, std::uint64_t floor);

}  // namespace ovz::detail
