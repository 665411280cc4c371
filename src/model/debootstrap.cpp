#include "model/debootstrap.hpp"

#include "fail.hpp"
#include "model/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace ovz::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// One deb822 stanza's fields, names lower-cased, folded lines joined by a space.
using stanza = std::vector<std::pair<std::string, std::string>>;

std::optional<std::string> field(const stanza& s, std::string_view name) {
  for (const auto& [k, v] : s) {
    if (k == name) return v;
  }
  return std::nullopt;
}

void add_stanza(const stanza& s, std::vector<apt_source>& out) {
  if (s.empty()) return;
  auto enabled = field(s, "enabled");
  if (enabled && lower(trim(*enabled)) == "no") return;
  if (!contains(words_of(field(s, "types").value_or("")), "deb")) return;
  auto suites = words_of(field(s, "suites").value_or(""));
  if (suites.empty()) return;
  for (auto& uri : words_of(field(s, "uris").value_or(""))) out.push_back({uri, suites});
}

bool suite_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

// Debian Policy 5.6.1: lower-case letters, digits, '+', '-', '.'; at least two characters,
// starting with an alphanumeric.
bool is_package_name(std::string_view p) {
  if (p.size() < 2 || p.size() > 128) return false;
  if (!std::islower(static_cast<unsigned char>(p[0])) && !std::isdigit(static_cast<unsigned char>(p[0])))
    return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '+' || c == '-' || c == '.';
  });
}

// The packages that make a Debian system's /sbin/init.
constexpr std::array<std::string_view, 5> init_packages = {"systemd-sysv", "sysvinit-core",
                                                           "runit-init", "finit-sysv", "init"};

bool is_getty_entry(std::string_view line) {
  // id:runlevels:action:process
  std::string_view rest = line;
  for (int i = 0; i < 3; ++i) {
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) return false;
    rest.remove_prefix(colon + 1);
  }
  auto words = words_of(rest);
  if (words.empty()) return false;
  std::string_view program = words[0];
  if (auto slash = program.rfind('/'); slash != std::string_view::npos)
    program.remove_prefix(slash + 1);
  return program.find("getty") != std::string_view::npos;
}

}  // namespace

std::vector<apt_source> parse_sources_list(std::string_view text) {
  std::vector<apt_source> out;
  for (auto line : lines_of(text)) {
    line = line.substr(0, line.find('#'));
    auto words = words_of(line);
    if (words.empty() || words[0] != "deb") continue;
    std::size_t i = 1;
    // Options: "[arch=amd64 signed-by=...]", possibly spread over several words.
    if (i < words.size() && words[i].starts_with('[')) {
      while (i < words.size() && !words[i].ends_with(']')) ++i;
      ++i;
    }
    // URI, suite and at least one component (a suite ending in '/' has none: still a source).
    if (i + 1 >= words.size()) continue;
    out.push_back({words[i], {words[i + 1]}});
  }
  return out;
}

std::vector<apt_source> parse_deb822_sources(std::string_view text) {
  std::vector<apt_source> out;
  stanza current;
  for (auto line : lines_of(text)) {
    if (line.starts_with('#')) continue;
    if (trim(line).empty()) {
      add_stanza(current, out);
      current.clear();
      continue;
    }
    if (line.starts_with(' ') || line.starts_with('\t')) {
      if (!current.empty()) {
        current.back().second += ' ';
        current.back().second += trim(line);
      }
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    current.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  add_stanza(current, out);
  return out;
}

std::optional<std::string> pick_mirror(const std::vector<apt_source>& sources,
                                       std::string_view suite) {
  for (const auto& s : sources) {
    if (contains(s.suites, suite)) return s.uri;
  }
  for (const auto& s : sources) {
    std::string_view uri = s.uri;
    while (uri.ends_with('/')) uri.remove_suffix(1);
    if (uri.ends_with("/debian")) return s.uri;
  }
  return std::nullopt;
}

result<void> check_debootstrap_request(std::string_view suite, std::string_view mirror,
                                       const std::vector<std::string>& packages) {
  if (suite.empty() || suite.size() > 64 || suite.front() == '-' ||
      !std::all_of(suite.begin(), suite.end(), suite_char)) {
    return fail(errc::invalid_argument,
                "bad suite '{}': expected a Debian suite or codename such as bookworm",
                excerpt(suite));
  }
  constexpr std::array<std::string_view, 4> schemes = {"http://", "https://", "ftp://", "file:/"};
  const bool known_scheme = std::any_of(schemes.begin(), schemes.end(),
                                        [&](auto s) { return mirror.starts_with(s); });
  const bool clean = std::all_of(mirror.begin(), mirror.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!known_scheme || !clean || mirror.size() > 1024) {
    return fail(errc::invalid_argument,
                "bad mirror '{}': expected an http://, https://, ftp:// or file:/ URL",
                excerpt(mirror, 80));
  }
  for (const auto& p : packages) {
    if (!is_package_name(p)) {
      return fail(errc::invalid_argument,
                  "bad package name '{}': Debian package names are lower-case letters, digits, "
                  "'+', '-' and '.', starting with a letter or digit",
                  excerpt(p));
    }
  }
  return success();
}

std::vector<std::string> debootstrap_packages(const std::vector<std::string>& include) {
  std::vector<std::string> packages;
  for (const auto& p : include) {
    if (!contains(packages, p)) packages.push_back(p);
  }
  const bool has_init = std::any_of(packages.begin(), packages.end(), [](const auto& p) {
    return std::find(init_packages.begin(), init_packages.end(), p) != init_packages.end();
  });
  if (!has_init) packages.emplace_back("systemd-sysv");
  return packages;
}

std::vector<std::string> debootstrap_argv(const std::filesystem::path& target,
                                          std::string_view suite, std::string_view mirror,
                                          const std::vector<std::string>& packages,
                                          const std::filesystem::path& cache_dir) {
  // minbase: Essential packages and apt; a VE needs no kernel, bootloader or hardware tools.
  std::vector<std::string> argv = {"debootstrap", "--variant=minbase"};
  if (!packages.empty()) {
    std::string list;
    for (const auto& p : packages) list += (list.empty() ? "" : ",") + p;
    argv.push_back("--include=" + list);
  }
  if (!cache_dir.empty()) argv.push_back("--cache-dir=" + cache_dir.string());
  argv.emplace_back(suite);
  argv.push_back(target.string());
  argv.emplace_back(mirror);
  return argv;
}

std::string inittab_without_gettys(std::string_view inittab) {
  std::string out;
  bool explained = false;
  for (auto line : lines_of(inittab)) {
    auto content = trim(line);
    if (!content.starts_with('#') && is_getty_entry(content)) {
      if (!explained) {
        out += "# A VE has no ttys: its gettys are commented out (ovz template create).\n";
        explained = true;
      }
      out += "#";
    }
    out += line;
    out += '\n';
  }
  return out;
}

std::string depend_start_before(std::string_view depend, std::string_view script,
                                std::string_view before) {
  auto holds = [&](std::string_view line) {
    auto w = words_of(line);
    return std::ranges::find(w, script) != w.end();
  };
  const std::string target_line = fmt::format("{}:", before);
  std::string out;
  bool dependency = false;
  for (auto line : lines_of(depend)) {
    std::string l(line);
    if (line.starts_with("TARGETS =") && !holds(line)) l += fmt::format(" {}", script);
    if (line.starts_with(target_line)) {
      dependency = true;
      if (!holds(line.substr(target_line.size()))) l += fmt::format(" {}", script);
    }
    out += l + '\n';
  }
  if (!dependency) out += fmt::format("{} {}\n", target_line, script);
  return out;
}

}  // namespace ovz::detail
