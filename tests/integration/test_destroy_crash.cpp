// destroy killed at any step leaves a whole VE or none: the config goes first, the data after,
// and what data a killed destroy left is removed by the next create or destroy.
// CTIDs 11260-11269.

#include "support/crash.hpp"
#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "model/layout.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

using namespace ovz;
using ovz::test::temp_root;

TEST_CASE("a destroy killed after the config went leaves no VE, and the next create or "
          "destroy removes its data", "[ve][destroy]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11260);
  const auto l = detail::layout_of(root.path(), v.id());

  MUST(v.create());
  std::ofstream(l.upper / "stale") << "from the destroyed VE\n";
  CHECK(test::killed_at("destroy:config-removed", [&] { (void)v.destroy(); }));
  CHECK(MUST(v.status()).state == ve_state::absent);
  CHECK(std::filesystem::exists(l.upper / "stale"));  // killed before the data went
  MUST(v.create());
  CHECK_FALSE(std::filesystem::exists(l.upper / "stale"));
  MUST(v.start());
  MUST(v.stop({.fast = true}));

  CHECK(test::killed_at("destroy:config-removed", [&] { (void)v.destroy(); }));
  auto again = v.destroy();
  REQUIRE_FALSE(again);
  CHECK(again.error().is(errc::not_found));
  CHECK_FALSE(std::filesystem::exists(l.private_dir));
  CHECK_FALSE(std::filesystem::exists(l.mount_point));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a destroy killed as it removes the config leaves a VE that starts",
          "[ve][destroy]") {
  test::require_root();
  if (std::system("command -v strace >/dev/null") != 0) {
    std::cout << "SKIPPED: strace is not installed (install-deps.sh installs it)\n";
    std::cout.flush();
    std::_Exit(77);
  }
  temp_root root;
  auto v = root.open(11261);
  const auto l = detail::layout_of(root.path(), v.id());
  MUST(v.create());
  // strace kills ovzctl as it enters the unlink of CTID.conf, the last moment the VE exists.
  const std::string cmd = "strace -f -o /dev/null -P " + l.conf.string() +
                          " --inject=unlink,unlinkat:signal=KILL:when=1 " OVZCTL_PATH " --root " +
                          root.path().string() + " destroy 11261 >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  INFO(cmd << " -> " << status);
  CHECK(status != 0);
  REQUIRE(std::filesystem::exists(l.conf));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  MUST(v.start());
  MUST(v.stop({.fast = true}));
  MUST(v.destroy());
  CHECK_FALSE(std::filesystem::exists(l.private_dir));
  CHECK(test::leftovers(root).empty());
}
