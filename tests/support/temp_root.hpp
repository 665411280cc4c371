#pragma once
// Helpers every suite shares: a private state root per test, checked results, the root check.

#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include <catch2/catch.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace ovz::test {

/// A private state root for one test: a fresh directory under /tmp. On scope exit every VE in
/// it is stopped and destroyed and the directory removed, so a failing test leaves nothing.
class temp_root {
 public:
  temp_root();
  /// The same under another directory (a filesystem a test mounted for it).
  explicit temp_root(const std::filesystem::path& parent);
  ~temp_root();
  temp_root(const temp_root&) = delete;
  temp_root& operator=(const temp_root&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// A handle for a CTID under this root.
  ve open(std::uint32_t id) const;

 private:
  std::filesystem::path path_;
};

/// A VE made from the busybox template and started, in a private state root of its own.
struct running_ve {
  explicit running_ve(std::uint32_t id);
  temp_root root;
  ve v;
};

/// Ends the test with exit code 77 (ctest: skipped) after printing why, unless running as root.
void require_root();

/// Whether CRIU can checkpoint on this kernel (checkpoint_supported()); when not, the test
/// is told why ("SKIPPED: " and CRIU's reason) and should return.
bool checkpoint_works_here();

template <class T>
T must(result<T> r, const char* what) {
  if (!r) FAIL(what << " failed: " << r.error().message());
  if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

}  // namespace ovz::test

/// Evaluates a result-returning expression; fails the test with the error message, else yields
/// the value.
#define MUST(expr) ::ovz::test::must((expr), #expr)

namespace ovz::test {

/// What VEs of this state root left on the host: VE cgroups (in any hierarchy) and mounts
/// under the root. Empty when everything was cleaned up.
std::vector<std::string> leftovers(const temp_root& root);

/// The parent cgroup directories of this root's VEs that exist (one per v1 hierarchy, or one
/// on v2); destroying the last VE removes them.
std::vector<std::filesystem::path> cgroup_parents(const temp_root& root);

/// Gives the created VE `v` of `root` a busybox inittab whose shutdown action writes "ran\n"
/// into /root/shutdown: a stop that let init shut down leaves it. Returns where the host reads it.
std::filesystem::path mark_shutdown(const temp_root& root, const ve& v);

/// True while a process with this PID exists.
bool pid_alive(pid_t pid);

/// The seconds since boot the running VE `v` shows in its /proc/uptime.
double uptime_of(ve& v);

/// The seconds gone by since `t`.
double seconds_since(std::chrono::steady_clock::time_point t);

}  // namespace ovz::test
