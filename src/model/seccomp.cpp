#include <ovz/seccomp.hpp>

#include "fail.hpp"

#include <fmt/format.h>

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

constexpr std::pair<std::string_view, seccomp_compare> compare_ops[] = {
    {"==", seccomp_compare::eq}, {"!=", seccomp_compare::ne}, {"<=", seccomp_compare::le},
    {">=", seccomp_compare::ge}, {"<", seccomp_compare::lt},  {">", seccomp_compare::gt},
};

std::optional<std::uint64_t> parse_number(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// "0==8", "1<=0x10", "0&0x7e020000==0"
std::optional<seccomp_arg> parse_condition(std::string_view word) {
  seccomp_arg a;
  if (word.empty() || word[0] < '0' || word[0] > '5') return std::nullopt;
  a.index = static_cast<unsigned>(word[0] - '0');
  word.remove_prefix(1);
  if (!word.empty() && word[0] == '&') {
    auto eq = word.find("==");
    if (eq == std::string_view::npos) return std::nullopt;
    auto mask = parse_number(word.substr(1, eq - 1));
    auto value = parse_number(word.substr(eq + 2));
    if (!mask || !value) return std::nullopt;
    a.op = seccomp_compare::masked_eq;
    a.mask = *mask;
    a.value = *value;
    return a;
  }
  for (const auto& [text, op] : compare_ops) {
    if (word.substr(0, text.size()) != text) continue;
    auto value = parse_number(word.substr(text.size()));
    if (!value) return std::nullopt;
    a.op = op;
    a.value = *value;
    return a;
  }
  return std::nullopt;
}

// Small numbers (modes, flags' values) in decimal, masks and large ones in hex.
std::string number_text(std::uint64_t v) {
  return v < 0x1000 ? std::to_string(v) : fmt::format("{:#x}", v);
}

std::string condition_text(const seccomp_arg& a) {
  if (a.op == seccomp_compare::masked_eq)
    return fmt::format("{}&{:#x}=={}", a.index, a.mask, number_text(a.value));
  for (const auto& [text, op] : compare_ops)
    if (op == a.op) return fmt::format("{}{}{}", a.index, text, number_text(a.value));
  return "";
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
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("_:=&<>!").find(c) != std::string_view::npos;
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
    if (first == "arch") {
      for (std::string name; words >> name;) {
        if (seccomp_arch_resolve_name(name.c_str()) == 0) return bad("unknown architecture", name);
        p.architectures.push_back(name);
      }
      continue;
    }
    auto a = parse_action(first);
    if (!a) return bad("unknown action", first);
    seccomp_rule rule{{}, a->action, a->errno_value, {}};
    bool conditions = false;
    for (std::string word; words >> word;) {
      if (word == "if" && !conditions) {
        conditions = true;
        continue;
      }
      if (conditions) {
        auto c = parse_condition(word);
        if (!c) return bad("bad condition", word);
        rule.args.push_back(*c);
        continue;
      }
      if (seccomp_syscall_resolve_name(word.c_str()) == __NR_SCMP_ERROR)
        return bad("unknown system call", word);
      rule.syscalls.push_back(word);
    }
    if (rule.syscalls.empty()) return bad("no system call after", first);
    if (conditions && rule.args.empty()) return bad("no condition after", "if");
    p.rules.push_back(std::move(rule));
  }
  return p;
}

std::string seccomp_profile::to_text() const {
  std::string out = "default " + action_text(default_action, default_errno) + "\n";
  for (const auto& r : rules) {
    out += action_text(r.action, r.errno_value);
    for (const auto& s : r.syscalls) out += " " + s;
    if (!r.args.empty()) out += " if";
    for (const auto& a : r.args) out += " " + condition_text(a);
    out += "\n";
  }
  if (!architectures.empty()) {
    out += "arch";
    for (const auto& a : architectures) out += " " + a;
    out += "\n";
  }
  return out;
}

const seccomp_profile& default_seccomp_profile() {
  static const seccomp_profile p = [] {
    seccomp_profile d;
    d.rules.push_back(
        {{std::begin(refused), std::end(refused)}, seccomp_action::errno_return, EPERM, {}});
    return d;
  }();
  return p;
}

}  // namespace ovz::inline v0
