#pragma once
// LXCFS for tests: whether the host runs one where libovz looks, and one of the test's own.

#include <ovz/namespaces.hpp>

#include <filesystem>
#include <optional>

namespace ovz::test {

/// True when LXCFS is mounted where libovz looks for it ($OVZ_LXCFS, else /var/lib/lxcfs).
bool lxcfs_runs();

/// An LXCFS of the test's own, mounted on `dir` and named to libovz by $OVZ_LXCFS (for this
/// process and what it starts) for as long as it lives; stopped and unmounted after.
class own_lxcfs {
 public:
  /// Nothing (the test is skipped, saying why) where the lxcfs program or FUSE is missing.
  static std::optional<own_lxcfs> start(const std::filesystem::path& dir);
  own_lxcfs(own_lxcfs&& o) noexcept;
  own_lxcfs& operator=(own_lxcfs&&) = delete;
  ~own_lxcfs();

 private:
  own_lxcfs(std::filesystem::path dir, pid_t pid) : dir_(std::move(dir)), pid_(pid) {}
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

}  // namespace ovz::test
