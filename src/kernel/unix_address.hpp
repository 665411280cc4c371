#pragma once
// The address of a unix socket named `name` in the directory open as `dir`:
// "/proc/self/fd/DIR/NAME", which fits sockaddr_un however deep the directory lies.

#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <string_view>

namespace ovz::detail {

inline sockaddr_un unix_address_at(int dir, std::string_view name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  fmt::format_to_n(addr.sun_path, sizeof addr.sun_path - 1, "/proc/self/fd/{}/{}", dir, name);
  return addr;
}

}  // namespace ovz::detail
