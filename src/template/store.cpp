#include <ovz/template.hpp>

#include "fail.hpp"
#include "model/file_name.hpp"
#include "template/internal.hpp"

#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <fmt/ranges.h>

namespace ovz::inline v0 {
namespace {

namespace fs = std::filesystem;

result<void> install_busybox(const fs::path& dir) {
  BOOST_OUTCOME_TRY(detail::make_template_dir(dir));
  auto staged = detail::staging_dir::create(dir, builtin_template);
  if (!staged) return staged.error();
  BOOST_OUTCOME_TRY(detail::build_busybox(staged.value().path()));
  // When another builder got there first, its template is as good as ours.
  BOOST_OUTCOME_TRY(staged.value().publish(dir / builtin_template));
  return success();
}

// A finder that looked at the same time may have rebuilt it already: checked again under the
// store's lock, so a good template is never thrown away.
result<void> discard_broken_busybox(const fs::path& dir) {
  auto lock = detail::lock_store(dir, LOCK_EX);
  if (!lock) return lock.error();
  const auto root = dir / builtin_template;
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0) {
    if (errno == ENOENT) return success();
    return detail::sys_fail(errno, "{}: lstat", root.string());
  }
  BOOST_OUTCOME_TRY(problem, detail::busybox_problem(root));
  if (!problem) return success();
  return detail::discard(dir, builtin_template);
}

}  // namespace

template_store::template_store(fs::path state_root) : dir_(std::move(state_root) / "template") {}

result<void> template_store::check_name(std::string_view name) {
  return detail::check_file_name(name, "template name");
}

result<std::vector<template_info>> template_store::list() const {
  std::vector<template_info> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    // Also skips staging directories, which start with a dot.
    if (!check_name(name)) continue;
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    found.push_back({name, it->path(), name == builtin_template});
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return detail::sys_fail(ec.value(), "{}: listing templates", dir_.string());
  }
  if (std::none_of(found.begin(), found.end(), [](const auto& t) { return t.builtin; })) {
    found.push_back({builtin_template, dir_ / builtin_template, true});
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return found;
}

result<template_info> template_store::find(std::string_view name) const {
  BOOST_OUTCOME_TRY(check_name(name));
  template_info info{std::string(name), dir_ / name, name == builtin_template};
  struct stat st;
  if (::stat(info.path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      // Also tightens a template directory that an older libovz made 0755.
      BOOST_OUTCOME_TRY(detail::make_template_dir(dir_));
      BOOST_OUTCOME_TRY(problem, info.builtin ? detail::busybox_problem(info.path)
                                              : detail::sh_problem(info.path));
      if (!problem) return info;
      if (!info.builtin) {
        return detail::fail(errc::invalid_argument,
                            "template '{}' ({}) {}: it is broken (a crash before the template "
                            "reached the disk leaves it so); remove {} and import the template "
                            "again",
                            name, info.path.string(), *problem, info.path.string());
      }
      auto discarded = discard_broken_busybox(dir_);
      if (!discarded) {
        return detail::with_context(
            discarded.error(), fmt::format("template 'busybox' {}: removing it", *problem));
      }
    }
  } else if (errno != ENOENT) {
    return detail::sys_fail(errno, "{}: stat", info.path.string());
  }

  if (info.builtin) {
    auto built = install_busybox(dir_);
    if (!built) return detail::with_context(built.error(), "building template 'busybox'");
    return info;
  }
  auto all = list();
  if (!all) return all.error();
  std::vector<std::string> names;
  for (const auto& t : all.value()) names.push_back(t.name);
  return detail::fail(errc::not_found, "template '{}' not found (available: {})", name,
                      fmt::join(names, ", "));
}

}  // namespace ovz::inline v0
