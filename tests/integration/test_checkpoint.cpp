// What this host's CRIU can do, as libovz finds it: CRIU's own check of the kernel, its
// version and features, and a missing criu said so. Checkpoint itself runs in the lab.

#include "support/temp_root.hpp"

#include <ovz/checkpoint.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace ovz;

namespace {

std::string first_line_of(const char* command) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(command, "r"), ::pclose);
  char line[256] = {};
  if (!p || !std::fgets(line, sizeof line, p.get())) return {};
  return line;
}

bool criu_installed() { return std::system("command -v criu >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("checkpoint support is CRIU's own check of this kernel, with its reason where it fails",
          "[checkpoint]") {
  test::require_root();
  if (!criu_installed()) {
    WARN("SKIPPED: criu is not installed (apt-get install criu)");
    return;
  }
  const bool criu_says = std::system("criu check >/dev/null 2>&1") == 0;
  auto ours = checkpoint_supported();
  INFO((ours ? std::string("supported") : ours.error().message()));
  CHECK(static_cast<bool>(ours) == criu_says);
  if (!ours) {
    CHECK(ours.error().is(errc::unsupported));
    CHECK(ours.error().message().find("CRIU cannot checkpoint on this kernel: ") == 0);
  }
  // Asked once: the same answer again.
  CHECK(static_cast<bool>(checkpoint_supported()) == criu_says);

  auto tools = MUST(checkpoint_tools_here());
  CHECK(first_line_of("criu --version") == "Version: " + tools.criu_version + "\n");
  // Memory tracking is what online migration needs; CRIU finds it where it can check at all.
  if (criu_says) CHECK(tools.memory_tracking);
}

TEST_CASE("a host without criu is told so, naming the package", "[checkpoint]") {
  ::setenv("OVZ_CRIU", "/nonexistent/criu", 1);
  auto tools = checkpoint_tools_here();
  ::unsetenv("OVZ_CRIU");
  REQUIRE_FALSE(tools);
  CHECK(tools.error().is(errc::unsupported));
  CHECK(tools.error().message() ==
        "/nonexistent/criu is not installed (apt-get install criu)");
}
