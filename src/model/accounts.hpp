#pragma once
// A VE's user accounts as its /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow hold
// them, edited the way `useradd -m USER` and `chpasswd` would (vzctl set --userpasswd):
// for a stopped VE, whose own tools the host must not run.

#include <ovz/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ovz::detail {

/// A user name useradd takes by default: 1 to 32 of [a-z0-9_-] (a final '$' allowed), not
/// starting with '-' or a digit.
result<void> check_user_name(std::string_view name);
/// A password chpasswd takes: not empty, no newline, carriage return or NUL.
result<void> check_password(std::string_view password);

struct account_files {
  std::string passwd;
  std::optional<std::string> shadow{};  // none: the hash goes into passwd
  std::string group;
  std::optional<std::string> gshadow{};
};

/// A user the edit adds.
struct new_user {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string home;  // "/home/USER"
};

struct account_edit {
  account_files files;
  std::optional<new_user> added{};
};

/// `in` with `user`'s password hash set to `hash` (its shadow line's last change to `today`,
/// days since 1970). A missing user is added as useradd would: the lowest free uid from
/// 1000, a group of its name (its gid the uid when free), home /home/USER, shell /bin/sh.
/// errc::unsupported when no uid or gid below 60000 is free.
result<account_edit> with_password(const account_files& in, std::string_view user,
                                   std::string_view hash, long today);

}  // namespace ovz::detail
