#include "kernel/cgroup_subtree.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"

#include <sys/stat.h>

#include <sstream>

namespace ovz::detail {
namespace {

result<std::string> enabled_in(const std::filesystem::path& cg) {
  BOOST_OUTCOME_TRY(text, read_file((cg / "cgroup.subtree_control").string()));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace

result<std::string> subtree_controls(const std::filesystem::path& dir) {
  std::string out;
  auto add = [&](const std::filesystem::path& cg, const std::string& rel) -> result<void> {
    BOOST_OUTCOME_TRY(enabled, enabled_in(cg));
    out += rel + (enabled.empty() ? "" : " ") + enabled + "\n";
    return success();
  };
  BOOST_OUTCOME_TRY(add(dir, "."));
  std::error_code ec;
  // Pre-order: a parent's line before its children's.
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    BOOST_OUTCOME_TRY(add(it->path(), it->path().lexically_relative(dir).string()));
  }
  if (ec) return sys_fail(ec.value(), "list the cgroups below {}", dir.string());
  return out;
}

result<void> enable_subtree_controls(const std::filesystem::path& dir, std::string_view saved) {
  std::istringstream lines{std::string(saved)};
  std::string line, rel, name;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    if (!(words >> rel)) continue;
    if (rel.find("..") != std::string::npos)
      return fail(errc::bad_config, "a saved cgroup '{}' outside {}", excerpt(rel), dir.string());
    const auto path = (dir / rel).lexically_normal();
    // CRIU makes again only the cgroups its tasks are in; a systemd inside watches the
    // empty ones too (its slices).
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
      return sys_fail(errno, "mkdir {}", path.string());
    std::string plus;
    while (words >> name) plus += (plus.empty() ? "+" : " +") + name;
    if (plus.empty()) continue;
    if (auto ok = write_file((path / "cgroup.subtree_control").string(), plus); !ok)
      return with_context(ok.error(), "enable " + plus + " below " + path.string());
  }
  return success();
}

}  // namespace ovz::detail
