// The cgroup yard CRIU is given (kernel/criu_yard), on this host's hierarchies, whichever
// cgroup version they are: each hierarchy this process is in, under the name CRIU opens,
// is the host's own (the same file system, its root), the host's mount options stay as
// they were, and nothing of the yard is left once it goes.

#include "support/host_mounts.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include "kernel/cgroup_mounts.hpp"
#include "kernel/criu_yard.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <sstream>
#include <string>

using namespace ovz;

namespace {

// The hierarchies of /proc/self/cgroup, under the names CRIU looks for in its yard.
std::vector<std::string> yard_names() {
  std::vector<std::string> out;
  std::istringstream lines(test::read_text("/proc/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    std::string field = line.substr(first + 1, second - first - 1);
    if (field.empty()) {
      out.push_back("unified");
      continue;
    }
    for (std::size_t at; (at = field.find("name=")) != std::string::npos;) field.erase(at, 5);
    out.push_back(field);
  }
  return out;
}

}  // namespace

TEST_CASE("CRIU's cgroup yard holds the host's own hierarchies and changes nothing of the "
          "host's", "[checkpoint][cgroups]") {
  test::require_root();
  const auto before = test::host_mounts({}, "/proc/self/mountinfo");
  std::filesystem::path where;
  {
    auto yard = MUST(detail::criu_yard::make());
    where = yard.path();
    for (const auto& name : yard_names()) {
      INFO("the yard's " << name);
      const auto dir = where / name;
      struct stat in_yard {};
      REQUIRE(::stat(dir.c_str(), &in_yard) == 0);
      // The root of that hierarchy: its cgroups are there as on the host.
      CHECK(std::filesystem::exists(dir / "cgroup.procs"));
      for (const auto& m : detail::host_cgroup_mounts()) {
        struct stat host {};
        if (::stat(m.mount_point.c_str(), &host) == 0 && host.st_dev == in_yard.st_dev)
          CHECK(host.st_ino == in_yard.st_ino);
      }
    }
    // The host's mounts as they were, the yard's own beside them.
    std::istringstream lines(before);
    const auto during = test::host_mounts(where, "/proc/self/mountinfo");
    for (std::string line; std::getline(lines, line);)
      CHECK(during.find(line) != std::string::npos);
  }
  CHECK(test::host_mounts(where, "/proc/self/mountinfo") == before);
  CHECK_FALSE(std::filesystem::exists(where));
}
