#include "support/fake_cgroupfs.hpp"

#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <stdlib.h>

#include <fstream>

namespace ovz::test {

fake_cgroupfs::fake_cgroupfs() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ovz-cgroupfs-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()));
  path_ = tmpl;
}

fake_cgroupfs::~fake_cgroupfs() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void fake_cgroupfs::make(const std::string& rel,
                         std::initializer_list<std::pair<const char*, std::string>> files) {
  std::filesystem::create_directories(path_ / rel);
  for (const auto& [name, content] : files) std::ofstream(path_ / rel / name) << content;
}

detail::cgroup_dir fake_cgroupfs::open(const std::string& rel) const {
  return MUST(detail::cgroup_dir::open((rel.empty() ? path_ : path_ / rel).string()));
}

std::string fake_cgroupfs::read(const std::string& rel) const { return read_text(path_ / rel); }

}  // namespace ovz::test
