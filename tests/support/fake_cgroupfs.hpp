#pragma once
// A cgroupfs made of plain files in a temp directory, for the resource writers' unit tests
// without root: a controller "has" a file when the fixture made it. Writers write as the
// kernel's files expect (no O_TRUNC, no O_CREAT), so a file a test reads back starts empty.

#include "support/temp_dir.hpp"

#include "kernel/cgroup_dir.hpp"

#include <filesystem>
#include <initializer_list>
#include <string>
#include <utility>

namespace ovz::test {

class fake_cgroupfs {
 public:
  const std::filesystem::path& path() const { return dir_.path; }
  /// Makes the directory `rel` (and its parents) holding these files, each with its content.
  void make(const std::string& rel,
            std::initializer_list<std::pair<const char*, std::string>> files = {});
  /// The directory `rel`, held open as the managers hold a VE's cgroup.
  detail::cgroup_dir open(const std::string& rel) const;
  /// The content of a file below the root.
  std::string read(const std::string& rel) const;

 private:
  temp_dir dir_;
};

}  // namespace ovz::test
