#pragma once
// What the template sources share: staging directories that vanish unless published, the
// check that a tree can boot.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>
#include <ovz/template.hpp>

#include "kernel/dirs.hpp"

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ovz::detail {

/// Creates `path` holding `content` with exactly `mode`; fails if it exists.
result<void> write_new_file(const std::filesystem::path& path, std::string_view content,
                            mode_t mode);

/// Makes `<state root>/template` (and the state root) if missing, root-only (see
/// make_root_only_dir), and removes the staging directories of builders that were killed.
result<void> make_template_dir(const std::filesystem::path& dir);

/// Locks the template directory `dir` (flock `how`: LOCK_SH or LOCK_EX, waiting) until the
/// descriptor is closed. Shared while a staging directory is made and locked, exclusive while
/// leftovers or broken templates are removed, so neither takes a live builder's directory.
result<unique_fd> lock_store(const std::filesystem::path& dir, int how);

/// Moves the template `<dir>/<name>` out of the way and removes it; the caller holds
/// lock_store(dir, LOCK_EX). A crash half-way leaves a staging-like directory that the next
/// make_template_dir() removes.
result<void> discard(const std::filesystem::path& dir, std::string_view name);

/// A fresh directory `<dir>/.<name>.tmp-<pid>-XXXXXX` (mode 0755) in which a template is built,
/// flock'ed for as long as the builder lives (so that only a killed builder's is taken for a
/// leftover). It is removed with everything in it unless publish() moved it into place.
class staging_dir {
 public:
  static result<staging_dir> create(const std::filesystem::path& dir, std::string_view name);

  staging_dir(staging_dir&& o) noexcept;
  staging_dir& operator=(staging_dir&&) = delete;
  ~staging_dir();

  const std::filesystem::path& path() const { return path_; }

  /// Flushes every file and directory in it to disk, then renames the directory to `target`.
  /// False when `target` already exists (another builder won the race); the staging
  /// directory is then removed on destruction.
  result<bool> publish(const std::filesystem::path& target);

 private:
  explicit staging_dir(std::filesystem::path path) : path_(std::move(path)) {}

  std::filesystem::path path_;
  unique_fd lock_;  // the directory, flock'ed
};

/// `staged`, published as the template `info` names: errc::already_exists when another
/// builder made one of that name first.
result<template_info> publish_template(staging_dir& staged, template_info info);

/// Why the tree `root` cannot boot a VE, or nullopt when it can: its /bin/sh, resolved inside
/// it as the VE sees it, must be a non-empty executable regular file that starts as an ELF
/// binary or a script does. The reason reads after the tree's name ("has no /bin/sh", "has an
/// empty /bin/sh (0 bytes)", ...).
result<std::optional<std::string>> sh_problem(const std::filesystem::path& root);

/// sh_problem() for the built-in template, which also checks the files it writes.
result<std::optional<std::string>> busybox_problem(const std::filesystem::path& root);

/// Where a template's tree comes from: the host's debootstrap, or a tarball.
enum class tree_origin { debootstrap, imported };

/// Makes a tree fit for VEs (template_store::create() lists what it changes). An imported
/// one gets what makes its VEs work and keeps them apart (no gettys, a machine-id and SSH
/// host keys of each VE's own, systemd's tasks left to NUMPROC), but keeps its hostname,
/// resolver and package caches, and none of its programs is run.
result<void> fit_for_ve(const std::filesystem::path& root, tree_origin origin);

/// Fills the empty directory `root` with the built-in busybox template.
result<void> build_busybox(const std::filesystem::path& root);

}  // namespace ovz::detail
