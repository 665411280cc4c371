// What a VE sees at /sys/fs/cgroup: its own cgroup as the root of every hierarchy it is in,
// sub-cgroups it may make where its own init (a systemd) keeps its processes, and no limit the
// host set that it could change — in a VE with and without a user namespace. What it makes
// goes with it at stop and destroy, and nothing reaches the host's roots.
// CTIDs 14400-14409.

#include "support/temp_root.hpp"
#include "support/userns_root.hpp"

#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"

#include <filesystem>
#include <string>

using namespace ovz;

namespace {

std::string run(ve& v, const std::string& script) {
  auto r = MUST(v.exec({"/bin/sh", "-c", script}));
  INFO(script << "\n" << r.out << r.err);
  CHECK(r.exit_code == 0);
  return r.out;
}

// Where a systemd inside keeps its cgroups: cgroup2 on v2; name=systemd and unified on v1
// where the host has them mounted.
std::vector<std::string> managed_inside(int version) {
  if (version == 2) return {"/sys/fs/cgroup"};
  std::vector<std::string> dirs;
  for (const char* d : {"systemd", "unified"})
    if (std::filesystem::exists(std::string("/sys/fs/cgroup/") + d + "/cgroup.procs"))
      dirs.push_back(std::string("/sys/fs/cgroup/") + d);
  return dirs;
}

void check_view(const test::temp_root& root, ve& v) {
  auto cg = MUST(detail::host_cgroups());
  // Rooted at the VE's cgroup in every hierarchy: /proc/self/cgroup says "/" on each line.
  const auto listed = run(v, "cat /proc/self/cgroup");
  for (std::size_t at = 0, nl; (nl = listed.find('\n', at)) != std::string::npos; at = nl + 1) {
    INFO(listed);
    CHECK(listed.substr(at, nl - at).ends_with(":/"));
  }
  // The limits the host wrote are the host's, whatever the VE's root tries: each value lifts
  // one, and the kernel would take it from the host.
  const auto tried = run(v, R"(for fv in pids.max=max memory.max=max cpu.max=max \
      pids/pids.max=max memory/memory.limit_in_bytes=-1 cpu/cpu.cfs_quota_us=-1 \
      devices/devices.allow=a; do
    f=${fv%%=*}
    [ -e /sys/fs/cgroup/$f ] || continue
    if echo ${fv#*=} 2>/dev/null >/sys/fs/cgroup/$f; then echo "wrote $f"; else echo "refused $f"; fi
  done)");
  INFO(tried);
  CHECK(tried.find("wrote") == std::string::npos);
  CHECK(tried.find("refused") != std::string::npos);
  // v1's release_agent runs a program as the host's root: it lives at a hierarchy's real root
  // only, which the VE does not see.
  CHECK(run(v, "find /sys/fs/cgroup -name release_agent").empty());
  // Its own sub-cgroups, where a systemd makes them, with a process moved in.
  const auto dirs = managed_inside(cg->version());
  REQUIRE_FALSE(dirs.empty());
  for (const auto& d : dirs) {
    run(v, "mkdir " + d + "/probe.scope && echo $$ >" + d + "/probe.scope/cgroup.procs && "
           "grep -q /probe.scope /proc/self/cgroup");
    // On the host (where the hierarchy is mounted at the same path) it is below the VE's
    // cgroup, not at the root.
    CHECK_FALSE(std::filesystem::exists(std::filesystem::path(d) / "probe.scope"));
    bool below = false;
    for (const auto& parent : test::cgroup_parents(root))
      below = below || std::filesystem::exists(parent / v.id().str() / "probe.scope");
    CHECK(below);
  }
}

}  // namespace

TEST_CASE("a VE sees its own cgroups at /sys/fs/cgroup, may make sub-cgroups there, cannot "
          "change its limits, and stop and destroy take what it made", "[ve][cgroups][systemd]") {
  test::require_root();
  test::userns_root root;  // for both: the user-namespace VE needs idmapped mounts
  auto plain = root.open(14400);
  auto mapped = root.open(14401);
  MUST(plain.create());
  MUST(mapped.create({.userns = true}));
  for (ve* v : {&plain, &mapped}) {
    INFO("VE " << v->id().str());
    MUST(v->start());
    check_view(root.get(), *v);
  }
  MUST(plain.stop({.fast = true}));
  MUST(mapped.stop({.fast = true}));
  CHECK(test::leftovers(root.get()).empty());
  MUST(plain.destroy());
  MUST(mapped.destroy());
  CHECK(test::leftovers(root.get()).empty());
  // The last destroy takes the state root's parent cgroup too, in every hierarchy.
  CHECK(test::cgroup_parents(root.get()).empty());
}
