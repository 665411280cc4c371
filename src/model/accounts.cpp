#include "model/accounts.hpp"

#include "fail.hpp"
#include "model/text.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

namespace ovz::detail {
namespace {

constexpr std::uint32_t first_id = 1000, last_id = 59999;  // login.defs' UID_MIN, UID_MAX

std::vector<std::string> fields_of(std::string_view line) {
  std::vector<std::string> out;
  for (;;) {
    auto colon = line.find(':');
    out.emplace_back(line.substr(0, colon));
    if (colon == std::string_view::npos) break;
    line.remove_prefix(colon + 1);
  }
  return out;
}

std::string joined(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? ":" : "") + fields[i];
  return out;
}

// The file's lines, with the one whose first field is `name` changed by `edit` (true when
// there was one).
template <class Edit>
bool edit_entry(std::string& file, std::string_view name, Edit edit) {
  std::string out;
  bool found = false;
  for (auto line : lines_of(file)) {
    auto f = fields_of(line);
    if (!found && f.front() == name) {
      found = true;
      edit(f);
      out += joined(f) + '\n';
    } else {
      out += std::string(line) + '\n';
    }
  }
  file = std::move(out);
  return found;
}

void append_line(std::string& file, const std::string& line) {
  if (!file.empty() && file.back() != '\n') file += '\n';
  file += line + '\n';
}

std::optional<std::uint32_t> id_of(const std::string& field) {
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), id);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
  return id;
}

std::set<std::uint32_t> ids_in(const std::string& file, std::size_t field) {
  std::set<std::uint32_t> ids;
  for (auto line : lines_of(file)) {
    auto f = fields_of(line);
    if (f.size() <= field) continue;
    if (auto id = id_of(f[field])) ids.insert(*id);
  }
  return ids;
}

std::optional<std::uint32_t> lowest_free(const std::set<std::uint32_t>& taken) {
  for (std::uint32_t id = first_id; id <= last_id; ++id)
    if (!taken.contains(id)) return id;
  return std::nullopt;
}

std::optional<std::vector<std::string>> entry(const std::string& file, std::string_view name) {
  for (auto line : lines_of(file)) {
    auto f = fields_of(line);
    if (f.front() == name) return f;
  }
  return std::nullopt;
}

}  // namespace

result<void> check_user_name(std::string_view name) {
  auto bad = [&](const char* why) {
    return fail(errc::invalid_argument, "userpasswd: user \"{}\" {}", excerpt(name), why);
  };
  if (name.empty()) return bad("is empty");
  if (name.size() > 32) return bad("is longer than 32 characters");
  if (name.front() == '-' || (name.front() >= '0' && name.front() <= '9'))
    return bad("starts with '-' or a digit");
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                    (c == '$' && i + 1 == name.size());
    if (!ok) return bad("has a character other than a-z, 0-9, '_', '-' (and a final '$')");
  }
  return success();
}

result<void> check_password(std::string_view password) {
  if (password.empty())
    return fail(errc::invalid_argument, "userpasswd: the password is empty");
  if (password.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos)
    return fail(errc::invalid_argument,
                "userpasswd: the password holds a newline, carriage return or NUL");
  return success();
}

result<account_edit> with_password(const account_files& in, std::string_view user,
                                   std::string_view hash, long today) {
  account_edit out{in, {}};
  auto& f = out.files;
  const std::string days = std::to_string(today);
  const std::string name(user);
  if (!entry(f.passwd, user)) {
    auto uid = lowest_free(ids_in(f.passwd, 2));
    if (!uid) return fail(errc::unsupported, "userpasswd: no uid from 1000 to 59999 is free");
    std::uint32_t gid = 0;
    if (auto g = entry(f.group, user)) {
      auto id = g->size() > 2 ? id_of((*g)[2]) : std::nullopt;
      if (!id) return fail(errc::invalid_argument, "userpasswd: group {} has no gid", name);
      gid = *id;
    } else {
      auto groups = ids_in(f.group, 2);
      auto free = groups.contains(*uid) ? lowest_free(groups) : uid;
      if (!free) return fail(errc::unsupported, "userpasswd: no gid from 1000 to 59999 is free");
      gid = *free;
      append_line(f.group, fmt::format("{}:x:{}:", name, gid));
      if (f.gshadow && !entry(*f.gshadow, user)) append_line(*f.gshadow, name + ":!::");
    }
    out.added = new_user{*uid, gid, "/home/" + name};
    append_line(f.passwd, fmt::format("{}:x:{}:{}::{}:/bin/sh", name, *uid, gid, out.added->home));
  }
  if (!f.shadow) {
    edit_entry(f.passwd, user, [&](std::vector<std::string>& e) {
      if (e.size() > 1) e[1] = std::string(hash);
    });
    return out;
  }
  // The hash lives in shadow; passwd's "x" says so.
  edit_entry(f.passwd, user, [](std::vector<std::string>& e) {
    if (e.size() > 1) e[1] = "x";
  });
  const bool found = edit_entry(*f.shadow, user, [&](std::vector<std::string>& e) {
    e.resize(std::max<std::size_t>(e.size(), 9));
    e[1] = std::string(hash);
    e[2] = days;
  });
  if (!found) append_line(*f.shadow, fmt::format("{}:{}:{}:0:99999:7:::", name, hash, days));
  return out;
}

}  // namespace ovz::detail
