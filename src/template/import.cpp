#include <ovz/template.hpp>

#include "fail.hpp"
#include "kernel/host_tool.hpp"
#include "template/internal.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <string_view>

namespace ovz::inline v0 {
namespace {

namespace fs = std::filesystem;

// Longest first, so `.tar.gz` is not taken for a bare `.gz` that `.tar` misses.
constexpr std::string_view archive_suffixes[] = {".tar.gz", ".tar.xz", ".tgz", ".txz", ".tar"};

std::optional<std::string> strip_archive_suffix(const std::string& file) {
  for (auto suffix : archive_suffixes) {
    if (file.ends_with(suffix)) return file.substr(0, file.size() - suffix.size());
  }
  return std::nullopt;
}

}  // namespace

result<template_info> template_store::import(const fs::path& tarball, std::string_view name) {
  auto stem = strip_archive_suffix(tarball.filename().string());
  if (!stem) {
    return detail::fail(errc::invalid_argument,
                        "{}: unknown archive type: expected .tar, .tar.gz, .tgz, .tar.xz or .txz",
                        tarball.string());
  }
  template_info info{name.empty() ? *stem : std::string(name), {}, false};
  BOOST_OUTCOME_TRY(check_name(info.name));
  info.path = dir_ / info.name;

  struct stat st;
  if (info.name == builtin_template) {
    return detail::fail(errc::already_exists, "template '{}' already exists: it is built in",
                        info.name);
  }
  if (::lstat(info.path.c_str(), &st) == 0) {
    return detail::fail(errc::already_exists, "template '{}' already exists: {}", info.name,
                        info.path.string());
  }
  if (errno != ENOENT) return detail::sys_fail(errno, "{}: lstat", info.path.string());
  if (::stat(tarball.c_str(), &st) != 0)
    return detail::sys_fail(errno, "{}: stat", tarball.string());

  BOOST_OUTCOME_TRY(detail::make_template_dir(dir_));
  auto staging = detail::staging_dir::create(dir_, info.name);
  if (!staging) return staging.error();
  auto& staged = staging.value();
  // --force-local: a colon in the file name would otherwise mean a remote host. --xattrs with
  // every namespace and --acls: without them tar drops file capabilities (security.capability:
  // ping as a user needs cap_net_raw) and ACLs; --numeric-owner keeps ids as the tarball has
  // them, not as the host's user names map them.
  auto extracted = detail::run_tool({"tar", "--force-local", "--numeric-owner", "--xattrs",
                                     "--xattrs-include=*", "--acls", "-xpf", tarball.string(),
                                     "-C", staged.path().string()},
                                    detail::capture::out_and_err);
  if (!extracted) {
    return detail::with_context(extracted.error(), fmt::format("importing {} as template '{}'",
                                                               tarball.string(), info.name));
  }
  BOOST_OUTCOME_TRY(problem, detail::sh_problem(staged.path()));
  if (problem) {
    return detail::fail(errc::invalid_argument, "{} {}: not a root filesystem", tarball.string(),
                        *problem);
  }
  if (auto fitted = detail::fit_for_ve(staged.path(), detail::tree_origin::imported); !fitted) {
    return detail::with_context(fitted.error(), fmt::format("importing {} as template '{}'",
                                                            tarball.string(), info.name));
  }
  return detail::publish_template(staged, std::move(info));
}

}  // namespace ovz::inline v0
