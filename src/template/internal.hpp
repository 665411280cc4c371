#pragma once
// What the template sources share: staging directories that vanish unless published, and
// running host tools without fork.

#include <ovz/result.hpp>

#include "kernel/dirs.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// Creates `path` holding `content` with exactly `mode`; fails if it exists.
result<void> write_new_file(const std::filesystem::path& path, std::string_view content,
                            mode_t mode);

/// Makes `<state root>/template` (and the state root) if missing, root-only (see
/// make_root_only_dir).
result<void> make_template_dir(const std::filesystem::path& dir);

/// A fresh directory `<dir>/.<name>.tmp-<pid>-XXXXXX` (mode 0755) in which a template is built.
/// It is removed with everything in it unless publish() moved it into place.
class staging_dir {
 public:
  static result<staging_dir> create(const std::filesystem::path& dir, std::string_view name);

  staging_dir(staging_dir&& o) noexcept;
  staging_dir& operator=(staging_dir&&) = delete;
  ~staging_dir();

  const std::filesystem::path& path() const { return path_; }

  /// Renames the directory to `target`. False when `target` already exists (another builder
  /// won the race); the staging directory is then removed on destruction.
  result<bool> publish(const std::filesystem::path& target);

 private:
  explicit staging_dir(std::filesystem::path path) : path_(std::move(path)) {}

  std::filesystem::path path_;
};

/// Which of the tool's output streams run_tool() returns; the other goes to /dev/null.
enum class capture { out, out_and_err };

/// Runs argv[0] (searched in PATH unless it has a slash) with stdin from /dev/null, and returns
/// what it wrote to the captured streams. errc::child_failed, with that output, unless it
/// exits 0.
result<std::string> run_tool(const std::vector<std::string>& argv, capture what);

/// Fills the empty directory `root` with the built-in busybox template.
result<void> build_busybox(const std::filesystem::path& root);

}  // namespace ovz::detail
