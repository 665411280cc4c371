#include <ovz/template.hpp>

#include "fail.hpp"
#include "kernel/host_tool.hpp"
#include "model/debootstrap.hpp"
#include "template/internal.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace ovz::inline v0 {
namespace {

namespace fs = std::filesystem;

constexpr const char* apt_dir = "/etc/apt";

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The host's binary sources in the order apt reads them: sources.list, then sources.list.d
// in name order.
std::vector<detail::apt_source> host_apt_sources() {
  auto sources = detail::parse_sources_list(slurp(fs::path(apt_dir) / "sources.list"));
  std::vector<fs::path> parts;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(apt_dir) / "sources.list.d", ec), end;
       !ec && it != end; it.increment(ec)) {
    parts.push_back(it->path());
  }
  std::sort(parts.begin(), parts.end());
  for (const auto& p : parts) {
    auto more = p.extension() == ".list"      ? detail::parse_sources_list(slurp(p))
                : p.extension() == ".sources" ? detail::parse_deb822_sources(slurp(p))
                                              : std::vector<detail::apt_source>{};
    sources.insert(sources.end(), more.begin(), more.end());
  }
  return sources;
}

result<void> check_debootstrap_installed() {
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  // root's usual places, in case the embedding program's PATH lacks the sbin directories.
  path += ":/usr/sbin:/sbin";
  std::string_view rest = path;
  while (!rest.empty()) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon + 1);
    if (!dir.empty() && ::access((dir + "/debootstrap").c_str(), X_OK) == 0) return success();
  }
  return detail::fail(errc::unsupported,
                      "debootstrap is missing: template create needs it (apt-get install "
                      "debootstrap)");
}

}  // namespace

result<template_info> template_store::create(std::string_view name,
                                             const debootstrap_options& opts) {
  BOOST_OUTCOME_TRY(check_name(name));
  template_info info{std::string(name), dir_ / name, false};
  if (info.name == builtin_template) {
    return detail::fail(errc::already_exists, "template '{}' already exists: it is built in",
                        info.name);
  }
  auto packages = detail::debootstrap_packages(opts.include);
  std::string mirror = opts.mirror;
  if (mirror.empty()) {
    auto picked = detail::pick_mirror(host_apt_sources(), opts.suite);
    if (!picked) {
      return detail::fail(errc::not_found,
                          "no mirror for suite '{}' in the host's apt sources ({}/sources.list, "
                          "sources.list.d): name one with --mirror",
                          detail::excerpt(opts.suite), apt_dir);
    }
    mirror = *picked;
  }
  BOOST_OUTCOME_TRY(detail::check_debootstrap_request(opts.suite, mirror, packages));
  fs::path cache_dir;
  if (!opts.cache_dir.empty()) {
    std::error_code ec;
    cache_dir = fs::absolute(opts.cache_dir, ec);
    struct stat st;
    if (ec || ::stat(cache_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return detail::fail(errc::invalid_argument, "cache directory {}: not a directory",
                          opts.cache_dir.string());
    }
  }
  struct stat st;
  if (::lstat(info.path.c_str(), &st) == 0) {
    return detail::fail(errc::already_exists, "template '{}' already exists: {}", info.name,
                        info.path.string());
  }
  if (errno != ENOENT) return detail::sys_fail(errno, "{}: lstat", info.path.string());
  BOOST_OUTCOME_TRY(check_debootstrap_installed());

  BOOST_OUTCOME_TRY(detail::make_template_dir(dir_));
  auto staging = detail::staging_dir::create(dir_, info.name);
  if (!staging) return staging.error();
  auto& staged = staging.value();
  const std::string context =
      fmt::format("creating template '{}' from {} {}", info.name, mirror, opts.suite);
  // In a mount namespace of its own: debootstrap mounts /proc and /sys in the tree and, killed,
  // would leave them there for the staging directory's removal to walk into.
  auto argv = detail::debootstrap_argv(staged.path(), opts.suite, mirror, packages, cache_dir);
  argv.insert(argv.begin(), {"unshare", "--mount", "--propagation", "private"});
  if (auto built = detail::run_tool(argv, detail::capture::out_and_err); !built)
    return detail::with_context(built.error(), context);
  if (auto fitted = detail::fit_for_ve(staged.path(), detail::tree_origin::debootstrap); !fitted)
    return detail::with_context(fitted.error(), context);
  BOOST_OUTCOME_TRY(problem, detail::sh_problem(staged.path()));
  if (problem) return detail::fail(errc::invalid_argument, "{}: the tree {}", context, *problem);
  return detail::publish_template(staged, std::move(info));
}

}  // namespace ovz::inline v0
