#include "support/host_mounts.hpp"

#include <fstream>
#include <sstream>

namespace ovz::test {

std::string host_mounts(const std::filesystem::path& own, const std::filesystem::path& mountinfo) {
  const auto mine = own.string();
  std::ifstream info(mountinfo);
  std::string kept;
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    const bool others = point.starts_with("/tmp/") || point.starts_with("/run/");
    if (!others || (!mine.empty() && (point == mine || point.starts_with(mine + "/"))))
      kept += line + "\n";
  }
  return kept;
}

}  // namespace ovz::test
