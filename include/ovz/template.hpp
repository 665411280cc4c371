#pragma once
/// @file
/// OS templates: the read-only root filesystems VEs are made from.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

/// Name of the built-in template, made from Debian's busybox-static without any network.
inline constexpr const char* builtin_template = "busybox";

struct template_info {
  std::string name;
  std::filesystem::path path;  ///< the unpacked root filesystem (the overlay's lower layer)
  bool builtin = false;
};

/// The templates under a state root (`<root>/template/<name>`). A template is shared read-only
/// by every VE made from it; VEs store only what differs in their private area.
class OVZ_API template_store {
 public:
  /// `state_root` as returned by resolve_state_root().
  explicit template_store(std::filesystem::path state_root);

  /// The installed templates, sorted by name. The built-in one is listed even before it was
  /// first built, since find() builds it on demand.
  result<std::vector<template_info>> list() const;

  /// The template's root filesystem. The built-in template is built on first use from the
  /// static busybox binary (/bin/busybox of Debian's busybox-static), and rebuilt when found
  /// broken (an empty /bin/sh, as a crash before writeback leaves it); errc::not_found for any
  /// other name that is not installed, errc::invalid_argument for an imported template that is
  /// broken so (the message says to remove it and import it again).
  result<template_info> find(std::string_view name) const;

  /// Unpacks a root filesystem from a .tar, .tar.gz, .tgz or .tar.xz file as a template. The
  /// name defaults to the file name without its archive extension (OpenVZ's
  /// `debian-12-x86_64.tar.gz` → `debian-12-x86_64`). Refuses an existing name, a bad name and a
  /// tarball without a usable root (its /bin/sh, resolved inside it, is not a non-empty executable
  /// ELF binary or script) — and then leaves nothing behind. The template is on disk (fsync'ed)
  /// before it appears under its name.
  result<template_info> import(const std::filesystem::path& tarball, std::string_view name = {});

  /// Checks a template name: 1–64 characters of [A-Za-z0-9._-], not starting with a dot.
  static result<void> check_name(std::string_view name);

 private:
  std::filesystem::path dir_;  // <state root>/template
};

}  // namespace ovz::inline v0
