#pragma once
// Cgroups an OCI runtime's caller names outside libovz's own (a cgroupsPath's parents,
// Podman's libpod_parent, containerd's namespace): one directory below the root of every
// hierarchy (v1's each, v2's one). Those a test's run made are removed at its end.

#include <filesystem>
#include <string>
#include <vector>

namespace ovz::test {

class runtime_cgroups {
 public:
  /// `top`: the directory's name below each hierarchy's root.
  explicit runtime_cgroups(std::string top);
  /// Removes `top` with what is below it, deepest first, where it was not there before (its
  /// processes must have gone).
  ~runtime_cgroups();
  runtime_cgroups(const runtime_cgroups&) = delete;
  runtime_cgroups& operator=(const runtime_cgroups&) = delete;

  /// `top` in each hierarchy that has it.
  std::vector<std::filesystem::path> places() const;
  /// The file `name` of the cgroup `below` top, from the hierarchy that has it; "" if none.
  std::string read(const std::string& below, const std::string& name) const;

  const std::string top;

 private:
  std::vector<std::filesystem::path> had_;
};

}  // namespace ovz::test
