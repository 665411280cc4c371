#include "model/etc_files.hpp"

#include <ovz/network.hpp>

#include "fail.hpp"
#include "model/text.hpp"

#include <algorithm>
#include <cctype>

namespace ovz::detail {
namespace {

bool is_localhost_name(std::string_view name) {
  return name == "localhost" || name.starts_with("localhost.");
}

// The line's address, or "" for a comment or blank line.
std::string_view address_of(std::string_view line) {
  auto t = trim(line);
  if (t.empty() || t.front() == '#') return {};
  return t.substr(0, t.find_first_of(" \t"));
}

bool is_loopback(const ip_address& a) {
  if (a.family == AF_INET) return a.bytes[0] == 127;
  static constexpr std::array<std::uint8_t, 16> one{0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0, 0, 0, 0, 1};
  return a.bytes == one;
}

// A line's first word, when the line is `key ...`.
bool keyed(std::string_view line, std::string_view key) {
  auto w = words_of(line);
  return !w.empty() && w.front() == key;
}

template <class Check>
result<void> check_list(const std::vector<std::string>& values, std::string_view what,
                        Check check) {
  if (std::ranges::find(values, inherit) != values.end() && values.size() > 1)
    return fail(errc::invalid_argument, "{}: \"inherit\" stands alone (the host's {})", what,
                what);
  for (const auto& v : values) {
    if (v == inherit) continue;
    if (auto ok = check(v); !ok) return ok;
  }
  return success();
}

}  // namespace

result<void> check_nameservers(const std::vector<std::string>& servers) {
  return check_list(servers, "nameserver", [](const std::string& s) -> result<void> {
    auto a = ip_address::parse(s);
    if (!a || a->prefix)
      return fail(errc::invalid_argument, "nameserver: \"{}\" is not an IPv4 or IPv6 address",
                  excerpt(s));
    return success();
  });
}

result<void> check_searchdomains(const std::vector<std::string>& domains) {
  return check_list(domains, "searchdomain", [](const std::string& d) -> result<void> {
    auto bad = [&](const char* why) {
      return fail(errc::invalid_argument, "searchdomain: \"{}\" is not a domain name: {}",
                  excerpt(d), why);
    };
    if (d.empty()) return bad("empty");
    if (d.size() > 253) return bad("longer than 253 characters");
    std::size_t start = 0;
    while (start <= d.size()) {
      auto end = d.find('.', start);
      if (end == std::string::npos) end = d.size();
      std::string_view label(d.data() + start, end - start);
      // A trailing dot (a rooted name) is allowed, an empty label elsewhere is not.
      if (label.empty() && end == d.size() && start > 0) break;
      if (label.empty() || label.size() > 63) return bad("a label is empty or longer than 63");
      if (label.front() == '-' || label.back() == '-')
        return bad("a label starts or ends with '-'");
      for (char c : label)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
          return bad("only letters, digits, '-', '_' and '.' are allowed");
      start = end + 1;
    }
    return success();
  });
}

std::string hosts_with_hostname(std::string_view hosts, std::string_view hostname,
                                std::string_view ip) {
  std::vector<std::string> lines;
  std::optional<std::size_t> ours;  // where the marker was
  bool skip_next = false;
  for (auto line : lines_of(hosts)) {
    if (skip_next) {
      skip_next = false;
      continue;
    }
    if (trim(line) == hosts_marker) {
      if (!ours) ours = lines.size();
      skip_next = true;
      continue;
    }
    lines.emplace_back(line);
  }
  auto localhost = std::ranges::find_if(lines, [](const std::string& l) {
    if (address_of(l) != "127.0.0.1") return false;
    auto w = words_of(l);
    return std::any_of(w.begin() + 1, w.end(), [](const std::string& n) { return n == "localhost"; });
  });
  if (localhost == lines.end()) {
    lines.insert(lines.begin(), "127.0.0.1\tlocalhost");
    if (ours) ++*ours;
    localhost = lines.begin();
  }
  if (!ours) ours = static_cast<std::size_t>(localhost - lines.begin()) + 1;
  if (!hostname.empty() && !is_localhost_name(hostname)) {
    std::string entry = fmt::format("{}\t{}", ip, hostname);
    const auto dot = hostname.find('.');
    if (dot != std::string_view::npos && dot > 0) entry += fmt::format(" {}", hostname.substr(0, dot));
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(*ours), {std::string(hosts_marker), entry});
  }
  std::string out;
  for (const auto& l : lines) out += l + '\n';
  return out;
}

std::string hostname_file(std::string_view hostname) { return fmt::format("{}\n", hostname); }

std::string resolv_conf_with(std::string_view resolv,
                             const std::optional<std::vector<std::string>>& servers,
                             const std::optional<std::vector<std::string>>& search) {
  std::vector<std::string> lines;
  std::optional<std::size_t> search_at;
  for (auto line : lines_of(resolv)) {
    if (search && (keyed(line, "search") || keyed(line, "domain"))) {
      if (!search_at) search_at = lines.size();
      continue;
    }
    if (servers && keyed(line, "nameserver")) continue;
    lines.emplace_back(line);
  }
  if (search && !search->empty()) {
    std::string l = "search";
    for (const auto& d : *search) l += " " + d;
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(search_at.value_or(0)), l);
  }
  if (servers)
    for (const auto& s : *servers) lines.push_back("nameserver " + s);
  std::string out;
  for (const auto& l : lines) out += l + '\n';
  return out;
}

std::vector<std::string> resolv_nameservers(std::string_view resolv) {
  std::vector<std::string> out;
  for (auto line : lines_of(resolv)) {
    auto w = words_of(line);
    if (w.size() < 2 || w[0] != "nameserver") continue;
    auto a = ip_address::parse(w[1]);
    if (a && !a->prefix && !is_loopback(*a)) out.push_back(w[1]);
  }
  return out;
}

std::vector<std::string> resolv_search(std::string_view resolv) {
  std::vector<std::string> out;
  for (auto line : lines_of(resolv)) {
    auto w = words_of(line);
    if (w.empty() || (w[0] != "search" && w[0] != "domain")) continue;
    out.assign(w.begin() + 1, w.end());
  }
  return out;
}

}  // namespace ovz::detail
