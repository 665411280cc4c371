#include <ovz/seccomp.hpp>

#include "fail.hpp"

#include <seccomp.h>

#include <charconv>
#include <optional>
#include <cstring>
#include <algorithm>
#include <cctype>
#include <sstream>

namespace ovz::inline v0 {
namespace {

// What a VE must never do whatever its capabilities.
constexpr const char* refused[] = {
    "init_module",   "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "open_by_handle_at", "name_to_handle_at", "add_key", "request_key", "keyctl",
    "swapon",        "swapoff",      "acct",          "iopl",       "ioperm",
    "lookup_dcookie", "nfsservctl",    "vm86",       "vm86old",
    "perf_event_open", "userfaultfd", "bpf", "syslog",
};

// errno by number or by its name ("EPERM"), as strerrorname_np spells it.
std::optional<int> parse_errno(std::string_view text) {
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (n > 0 && n < 4096) return n;
    return std::nullopt;
  }
  for (int e = 1; e < 4096; ++e) {
    const char* name = ::strerrorname_np(e);
    if (name && text == name) return e;
  }
  return std::nullopt;
}

std::string errno_text(int e) {
  const char* name = ::strerrorname_np(e);
  return name ? name : std::to_string(e);
}

struct parsed_action {
  seccomp_action action;
  int errno_value = EPERM;
};

std::optional<parsed_action> parse_action(std::string_view word) {
  if (word == "allow") return parsed_action{seccomp_action::allow};
  if (word == "kill") return parsed_action{seccomp_action::kill};
  if (word == "trap") return parsed_action{seccomp_action::trap};
  if (word == "log") return parsed_action{seccomp_action::log};
  if (word == "errno") return parsed_action{seccomp_action::errno_return};
  if (word.rfind("errno:", 0) == 0) {
    auto e = parse_errno(word.substr(6));
    if (!e) return std::nullopt;
    return parsed_action{seccomp_action::errno_return, *e};
  }
  return std::nullopt;
}

std::string action_text(seccomp_action a, int errno_value) {
  switch (a) {
    case seccomp_action::allow: return "allow";
    case seccomp_action::kill: return "kill";
    case seccomp_action::trap: return "trap";
    case seccomp_action::log: return "log";
    case seccomp_action::errno_return: return "errno:" + errno_text(errno_value);
  }
  return "allow";
}

}  // namespace

result<seccomp_profile> seccomp_profile::parse(std::string_view text, std::string_view origin) {
  seccomp_profile p;
  std::istringstream lines{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;
    // The file may be any the caller named (/etc/shadow): a word is quoted only when it could
    // be an action or a system call name, never the line.
    auto bad = [&](std::string_view what, std::string_view word) {
      const bool name_like = std::all_of(word.begin(), word.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
      });
      if (!name_like)
        return detail::fail(errc::bad_config, "{}: line {}: {} a word of {} bytes that is no name",
                            origin, number, what, word.size());
      return detail::fail(errc::bad_config, "{}: line {}: {} \"{}\"", origin, number, what,
                          detail::excerpt(word));
    };
    if (first == "default") {
      std::string word;
      if (!(words >> word)) return bad("no action after", first);
      auto a = parse_action(word);
      if (!a) return bad("unknown action", word);
      if (words >> word) return bad("more than one default action at", word);
      p.default_action = a->action;
      p.default_errno = a->errno_value;
      continue;
    }
    auto a = parse_action(first);
    if (!a) return bad("unknown action", first);
    seccomp_rule rule{{}, a->action, a->errno_value};
    for (std::string name; words >> name;) {
      if (seccomp_syscall_resolve_name(name.c_str()) == __NR_SCMP_ERROR)
        return bad("unknown system call", name);
      rule.syscalls.push_back(name);
    }
    if (rule.syscalls.empty()) return bad("no system call after", first);
    p.rules.push_back(std::move(rule));
  }
  return p;
}

std::string seccomp_profile::to_text() const {
  std::string out = "default " + action_text(default_action, default_errno) + "\n";
  for (const auto& r : rules) {
    out += action_text(r.action, r.errno_value);
    for (const auto& s : r.syscalls) out += " " + s;
    out += "\n";
  }
  return out;
}

const seccomp_profile& default_seccomp_profile() {
  static const seccomp_profile p = [] {
    seccomp_profile d;
    d.rules.push_back({{std::begin(refused), std::end(refused)}, seccomp_action::errno_return, EPERM});
    return d;
  }();
  return p;
}

}  // namespace ovz::inline v0
