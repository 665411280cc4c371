#include <cstdlib>
#include <ovz/state_root.hpp>
#include <system_error>

namespace ovz::inline v0 {

std::filesystem::path resolve_state_root(const std::filesystem::path& explicit_root) {
  std::filesystem::path root = explicit_root;
  if (root.empty()) {
    const char* env = std::getenv("OVZ_ROOT");
    root = env && *env ? env : default_state_root;
  }
  // absolute() (getcwd) fails only when the working directory is gone; a relative root is then the
  // best answer left, as this call has no way to report an error.
  std::error_code ec;
  if (auto abs = std::filesystem::absolute(root, ec); !ec) root = abs;
  root = root.lexically_normal();
  if (!root.has_filename() && root != root.root_path()) root = root.parent_path();
  return root;
}

}  // namespace ovz::inline v0
