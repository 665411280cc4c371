#pragma once
// Which capabilities VE processes lose, OpenVZ's CAPABILITY="NAME:on|off ..." applied on top.

#include <ovz/result.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// The bounding-set drops for a VE: the defaults (module loading, raw I/O, clock, mounting
/// and other CAP_SYS_ADMIN powers, MAC, audit control, syslog, mknod, open-by-handle …),
/// less the ones `capability` turns on, plus the ones it turns off. Names are libcap's
/// ("sys_time", "CAP_SYS_TIME", case-insensitive); a bad name or state is
/// errc::bad_config naming it.
result<std::vector<int>> dropped_capabilities(std::optional<std::string_view> capability);

}  // namespace ovz::detail
