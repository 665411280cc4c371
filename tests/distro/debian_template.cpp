#include "distro/debian_template.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace ovz::test {

std::filesystem::path debian_template(const std::string& flavour) {
  const std::string cmd =
      std::string("'" OVZ_DEBIAN_TEMPLATES "' '" OVZCTL_PATH "' ") + flavour;
  FILE* out = ::popen(cmd.c_str(), "r");
  REQUIRE(out);
  std::string path;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, out)) path.append(buf, n);
  const int status = ::pclose(out);
  while (!path.empty() && path.back() == '\n') path.pop_back();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    std::cout << "SKIPPED: no Debian 12 " << flavour << " template (see above)\n";
    std::cout.flush();
    std::_Exit(77);
  }
  INFO(cmd);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  REQUIRE(std::filesystem::is_regular_file(path));
  return path;
}

}  // namespace ovz::test
