#include "support/runtime_cgroups.hpp"

#include "support/text_file.hpp"

#include <unistd.h>

#include <algorithm>

namespace fs = std::filesystem;

namespace ovz::test {

runtime_cgroups::runtime_cgroups(std::string top) : top(std::move(top)), had_(places()) {}

runtime_cgroups::~runtime_cgroups() {
  for (const auto& at : places()) {
    if (std::find(had_.begin(), had_.end(), at) != had_.end()) continue;
    std::vector<fs::path> dirs{at};
    std::error_code ec;
    for (fs::recursive_directory_iterator it(at, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
    // Children sort after their parents.
    std::sort(dirs.rbegin(), dirs.rend());
    for (const auto& d : dirs) ::rmdir(d.c_str());
  }
}

std::vector<fs::path> runtime_cgroups::places() const {
  std::error_code ec;
  if (fs::exists("/sys/fs/cgroup/cgroup.controllers", ec)) {
    const auto at = fs::path("/sys/fs/cgroup") / top;
    if (fs::is_directory(at, ec)) return {at};
    return {};
  }
  std::vector<fs::path> found;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
    if (!h.is_symlink(ec) && fs::is_directory(h.path() / top, ec)) found.push_back(h.path() / top);
  return found;
}

std::string runtime_cgroups::read(const std::string& below, const std::string& name) const {
  std::error_code ec;
  for (const auto& at : places())
    if (fs::exists(at / below / name, ec)) return read_text(at / below / name);
  return "";
}

}  // namespace ovz::test
