#pragma once
// A fresh directory under the system's temporary directory, removed with everything in it at
// scope exit: for tests that need files but no state root of a real VE.

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace ovz::test {

struct temp_dir {
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ovz-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::filesystem::path path;
};

}  // namespace ovz::test
