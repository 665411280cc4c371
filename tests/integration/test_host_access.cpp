// What the host opens in trees that a VE or a user controls: a VE's /dev, the lock, CTID.conf,
// profiles. Nothing is followed out of them, nothing blocks, errors quote no foreign content,
// and nothing is left behind. CTIDs 11000-11099.

#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "model/layout.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace ovz;
using ovz::test::temp_root;

namespace {

namespace fs = std::filesystem;

int sh(const ve& v, const std::string& script) {
  auto r = MUST(v.exec({"/bin/sh", "-c", script}));
  UNSCOPED_INFO(script << " → " << r.exit_code << " " << r.out << r.err);
  return r.exit_code;
}

security_changes devnodes(std::vector<devnode_grant> grants) {
  security_changes c;
  c.devnodes = std::move(grants);
  return c;
}

// Every entry below a host directory, to see that nothing appeared or went.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// /dev/net -> <host dir> in the VE: a live grant of net/tun made through /proc/PID/root used to
// mknod the host's <host dir>/tun, and a planted /dev/kmsg symlink the host's file.
TEST_CASE("a live DEVNODES change never follows the VE's own symlinks to the host",
          "[isolation][devnodes]") {
  test::require_root();
  temp_root root;
  const auto canary = root.path() / "canary";
  fs::create_directories(canary);
  std::ofstream(canary / "precious") << "host data\n";
  const auto before = entries(canary);

  auto v = root.open(11000);
  MUST(v.create());
  MUST(v.start());
  REQUIRE(sh(v, "ln -s " + canary.string() + " /dev/net && ln -s " + canary.string() +
                    "/precious /dev/kmsg") == 0);

  auto tun = v.set_security(devnodes({{"net/tun", device_access::read_write}}), false);
  REQUIRE_FALSE(tun);
  INFO(tun.error().message());
  CHECK_THAT(tun.error().message(), Catch::Contains("VE 11000") && Catch::Contains("/dev/net"));
  CHECK(entries(canary) == before);

  // An honest grant still works: the planted link is replaced by the node.
  MUST(v.set_security(devnodes({{"kmsg", device_access::write}}), false));
  CHECK(sh(v, "test -c /dev/kmsg") == 0);
  MUST(v.set_security(devnodes({{"kmsg", device_access::none}}), false));
  CHECK(sh(v, "test -e /dev/kmsg") != 0);
  CHECK(entries(canary) == before);
  struct stat st {};
  REQUIRE(::lstat((canary / "precious").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0644);
  MUST(v.stop({.fast = true}));
}
