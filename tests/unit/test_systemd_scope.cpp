// The systemd cgroup manager's choices that need no systemd: the names of VEs' scopes and the
// cgroups systemd gives them, which manager a host gets, and what a host whose systemd does
// not answer gets.

#include <ovz/host.hpp>

#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"

#include "kernel/cgroup_detect.hpp"
#include "kernel/systemd_scope.hpp"

#include <filesystem>
#include <fstream>

using namespace ovz;
using namespace ovz::detail;

TEST_CASE("a VE's scope is named for its cgroup path, escaped as systemd-escape does",
          "[systemd]") {
  CHECK(scope_unit("ovz/101") == "ovz-ovz-101.scope");
  CHECK(scope_unit("ovz-2049-131/14000") == "ovz-ovz-2049-131-14000.scope");
  CHECK(scope_unit("ovz/a b\\c") == "ovz-ovz-a\\x20b\\x5cc.scope");
  CHECK(scope_description("ovz-2049-131/14000") == "libovz VE 14000 (cgroup ovz-2049-131/14000)");
}

TEST_CASE("a unit's cgroup is below its manager's and its slice's, nested slices nested",
          "[systemd]") {
  CHECK(unit_cgroup("", "machine.slice", "ovz-ovz-101.scope") ==
        "machine.slice/ovz-ovz-101.scope");
  CHECK(unit_cgroup("user.slice/user-0.slice/user@0.service", "machine.slice", "x.scope") ==
        "user.slice/user-0.slice/user@0.service/machine.slice/x.scope");
  CHECK(unit_cgroup("", "a-b-c.slice", "x.scope") == "a.slice/a-b.slice/a-b-c.slice/x.scope");
  CHECK(unit_cgroup("m", "-.slice", "x.scope") == "m/x.scope");
}

TEST_CASE("systemd makes the VEs' cgroups only where it is the init of a cgroup v2 host",
          "[systemd]") {
  CHECK(pick_cgroup_manager({.cgroup2 = true, .systemd_booted = true}) == cgroup_pick::systemd);
  CHECK(pick_cgroup_manager({.cgroup2 = true, .systemd_booted = false}) ==
        cgroup_pick::cgroupfs_v2);
  // A hybrid host booted with systemd: the v1 hierarchies VEs use stay libovz's.
  CHECK(pick_cgroup_manager({.cgroup2 = false, .systemd_booted = true}) ==
        cgroup_pick::cgroupfs_v1);
  CHECK(pick_cgroup_manager({.cgroup2 = false, .systemd_booted = false}) ==
        cgroup_pick::cgroupfs_v1);
}

TEST_CASE("systemd is the init when its runtime directory is a directory", "[systemd]") {
  test::temp_dir d;
  const auto sd = d.path / "run/systemd/system";
  auto facts = MUST(probe_cgroup_host(d.path.string(), sd.string()));
  CHECK_FALSE(facts.cgroup2);  // a temp directory is no cgroup2 mount
  CHECK_FALSE(facts.systemd_booted);
  std::filesystem::create_directories(sd.parent_path());
  std::ofstream(sd) << "";
  CHECK_FALSE(MUST(probe_cgroup_host(d.path.string(), sd.string())).systemd_booted);
  std::filesystem::remove(sd);
  std::filesystem::create_directory(sd);
  CHECK(MUST(probe_cgroup_host(d.path.string(), sd.string())).systemd_booted);

  auto missing = probe_cgroup_host((d.path / "none").string(), sd.string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().sys_errno() == ENOENT);
}

TEST_CASE("a systemd that does not answer is no host, and the error names its address",
          "[systemd]") {
  test::temp_dir d;
  const auto address = "unix:path=" + (d.path / "private").string();
  auto on = host::with_systemd(address, d.path);
  REQUIRE_FALSE(on);
  CHECK(on.error().sys_errno() == ENOENT);
  CHECK(on.error().message().find(address) != std::string::npos);
}

TEST_CASE("a cgroup path in systemd's terms names its scope and slice; any other is a VE's",
          "[systemd]") {
  auto named = named_scope("machine.slice/libpod-abc.scope");
  REQUIRE(named);
  CHECK(named->unit == "libpod-abc.scope");
  CHECK(named->slice == "machine.slice");
  named = named_scope("a.slice/a-b.slice/x.scope");
  REQUIRE(named);
  CHECK(named->slice == "a-b.slice");
  named = named_scope("top.scope");
  REQUIRE(named);
  CHECK(named->slice == "-.slice");
  // Not where systemd would put such a scope, not a scope, or a VE's own path.
  CHECK_FALSE(named_scope("a.slice/b.slice/x.scope"));
  CHECK_FALSE(named_scope("machine.slice/libpod-abc"));
  CHECK_FALSE(named_scope("mine/x.scope"));
  CHECK_FALSE(named_scope("machine.slice/.scope"));
  CHECK_FALSE(named_scope("ovz/101"));
  CHECK(scope_of("ovz/101").unit == "ovz-ovz-101.scope");
  CHECK(scope_of("ovz/101").slice == "machine.slice");
  CHECK(scope_of("machine.slice/libpod-abc.scope").unit == "libpod-abc.scope");
}
