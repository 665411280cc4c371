#include "support/fake_cgroupfs.hpp"

#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <fstream>

namespace ovz::test {

void fake_cgroupfs::make(const std::string& rel,
                         std::initializer_list<std::pair<const char*, std::string>> files) {
  std::filesystem::create_directories(path() / rel);
  for (const auto& [name, content] : files) std::ofstream(path() / rel / name) << content;
}

detail::cgroup_dir fake_cgroupfs::open(const std::string& rel) const {
  return MUST(detail::cgroup_dir::open((rel.empty() ? path() : path() / rel).string()));
}

std::string fake_cgroupfs::read(const std::string& rel) const { return read_text(path() / rel); }

}  // namespace ovz::test
