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

/// How template_store::create() builds a Debian (or Ubuntu) root filesystem with debootstrap.
struct debootstrap_options {
  std::string suite{};  ///< a suite or codename: "bookworm", "stable", "trixie"
  /// The archive to fetch from; empty: the one the host's apt sources name for the suite
  /// (/etc/apt/sources.list, sources.list.d/*.list and deb822 *.sources), else the host's
  /// Debian mirror.
  std::string mirror{};
  /// Packages beyond debootstrap's minbase (Essential and apt). Without an init among them
  /// (systemd-sysv, sysvinit-core, runit-init, ...) systemd-sysv, Debian's default, is added.
  std::vector<std::string> include{};
  /// A directory that keeps the downloaded .deb files for the next create (debootstrap
  /// --cache-dir); empty: none.
  std::filesystem::path cache_dir{};
};

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
  /// ELF binary or script) — and then leaves nothing behind. Extended attributes, ACLs and file
  /// capabilities (security.capability: ping's cap_net_raw) are kept as the tarball has them
  /// (GNU tar's --xattrs --acls when it was made). The tree is made fit for VEs as create()
  /// does, where that applies (gettys, machine-id, SSH host keys made per VE, systemd's
  /// DefaultTasksMax), without running any of its programs; its hostname, resolver and
  /// caches stay. The template is on disk (fsync'ed) before it appears under its name.
  result<template_info> import(const std::filesystem::path& tarball, std::string_view name = {});

  /// Builds a template with the host's debootstrap (`apt-get install debootstrap`), then makes it
  /// fit for VEs: no getty on ttys a VE has not (sysvinit's inittab; systemd's getty@ needs a
  /// /dev/tty0 a VE has not), an empty /etc/machine-id so that each systemd VE makes its own,
  /// no SSH host keys (each VE makes its own at its first start), no trace of the build host
  /// (/etc/hostname "localhost", an empty /etc/resolv.conf), no apt caches. Refuses what
  /// import() refuses and bad suites, mirrors and package names before it runs anything; a
  /// failed or interrupted create leaves nothing behind. Takes minutes: it downloads and
  /// installs a whole system.
  result<template_info> create(std::string_view name, const debootstrap_options& opts);

  /// Checks a template name: 1–64 characters of [A-Za-z0-9._-], not starting with a dot.
  static result<void> check_name(std::string_view name);

 private:
  std::filesystem::path dir_;  // <state root>/template
};

}  // namespace ovz::inline v0
