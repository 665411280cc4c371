#pragma once
// Password hashes for /etc/shadow, made on the host with libcrypt (crypt(3)).

#include <ovz/result.hpp>

#include <string>
#include <string_view>

namespace ovz::detail {

/// `password` hashed with yescrypt ("$y$…", Debian's default since 11) and a fresh salt from
/// the kernel's random source.
result<std::string> hash_password(std::string_view password);

}  // namespace ovz::detail
