// CTID.conf's CGROUP_PATH and the OCI cgroupsPath that sets it.

#include <catch2/catch.hpp>

#include "model/layout.hpp"
#include "oci/cgroup_path.hpp"

#include <string>

using ovz::errc;
using ovz::detail::given_cgroup;
using ovz::detail::oci_cgroup_path;

TEST_CASE("CGROUP_PATH is a path from the hierarchy's root", "[layout][cgroup]") {
  CHECK(given_cgroup("/libpod_parent/libpod-8d1c").value() == "libpod_parent/libpod-8d1c");
  CHECK(given_cgroup("/k8s.io/abc/").value() == "k8s.io/abc");
  CHECK(given_cgroup("/a").value() == "a");
  for (const char* bad : {"", "a/b", "/", "//a", "/a//b", "/a/../b", "/a/./b", "/..", "/a\n/b",
                          "/a\x7f"}) {
    INFO(bad);
    auto r = given_cgroup(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::bad_config));
    CHECK(r.error().message().starts_with("CGROUP_PATH \""));
  }
}

TEST_CASE("an OCI cgroupsPath is taken as runc takes it", "[oci][cgroup]") {
  CHECK(oci_cgroup_path("", "ovz").value().empty());
  CHECK(oci_cgroup_path("/libpod_parent/libpod-8d1c", "ovz").value() == "/libpod_parent/libpod-8d1c");
  // Relative: below the state root's cgroup parent.
  CHECK(oci_cgroup_path("pods/c1", "ovz-803-2a").value() == "/ovz-803-2a/pods/c1");
  // systemd's slice:prefix:name, where systemd would put the scope.
  CHECK(oci_cgroup_path("machine.slice:libpod:8d1c", "ovz").value() ==
        "/machine.slice/libpod-8d1c.scope");
  CHECK(oci_cgroup_path("kubepods-besteffort-pod12.slice:cri-containerd:ab", "ovz").value() ==
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/"
        "cri-containerd-ab.scope");
  CHECK(oci_cgroup_path(":cri:ab", "ovz").value() == "/cri-ab.scope");
  CHECK(oci_cgroup_path("system.slice::ab", "ovz").value() == "/system.slice/ab.scope");
  for (const char* bad : {"/a/../../etc", "x.slice:p:", "nota-slice:p:n", "a--b.slice:p:n",
                          "-a.slice:p:n", "../x"}) {
    INFO(bad);
    auto r = oci_cgroup_path(bad, "ovz");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::bad_config));
    CHECK(r.error().message().starts_with("linux.cgroupsPath"));
  }
}
