// The cgroups of a state root's VEs under crashes and races: a parent cgroup a crash left
// half set up, first starts at once, a destroy removing the shared parent under a start, and
// stop killing through the cgroup. CTIDs 11210-11259.

#include "support/crash.hpp"
#include "support/runtime_cgroups.hpp"
#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <latch>
#include <optional>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;

namespace {

// The directory of the root's cgroup parent in the hierarchy that has `file`.
std::filesystem::path parent_with(const temp_root& root, const std::string& file) {
  for (const auto& dir : test::cgroup_parents(root))
    if (std::filesystem::exists(dir / file)) return dir;
  FAIL("no cgroup parent of " << root.path() << " has " << file);
  return {};
}

// Runs in the VE's background, forking without end; each child leaves a sleep behind.
constexpr const char* fork_loop = "(while :; do (sleep 5 &); done) >/dev/null 2>&1 </dev/null &";

}  // namespace

TEST_CASE("a cgroup a crash left made but not set up does not stop later starts",
          "[ve][cgroups]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11210);
  MUST(v.create());
  MUST(v.start());
  MUST(v.stop({.fast = true}));  // the parent stays, with no VE cgroup in it
  auto cg = MUST(detail::host_cgroups());
  const auto l = MUST(detail::locate(root.path(), v.id()));

  if (cg->version() == 1) {
    // As a kill between the parent's mkdir and its cpuset.cpus write leaves it: a cpuset
    // cgroup with no CPUs, which refuses tasks with ENOSPC.
    const auto parent = parent_with(root, "cpuset.cpus");
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      MUST(detail::write_file((parent / file).string(), "\n"));
      REQUIRE(MUST(detail::read_file((parent / file).string())) == "\n");
    }
    MUST(v.start());
    MUST(v.stop({.fast = true}));
    // The same one level down: the VE's own cgroup in the cpuset hierarchy alone.
    std::filesystem::create_directory(parent / v.id().str());
    MUST(v.start());
  } else {
    // As a kill between the parent's mkdir and its subtree_control write leaves it: children
    // without the pids controller, VEs without NUMPROC.
    const auto parent = std::filesystem::path("/sys/fs/cgroup") / l.cgroup_parent;
    MUST(detail::write_file((parent / "cgroup.subtree_control").string(), "-pids"));
    MUST(v.start());
    CHECK(MUST(cg->stats(l.cgroup)).pids.enforced);
  }
  CHECK(MUST(v.status()).state == ve_state::running);
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("VEs first started at once on a fresh state root all start", "[ve][cgroups][threads]") {
  test::require_root();
  constexpr int n = 8;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    temp_root root;
    std::vector<ve> ves;
    for (int i = 0; i < n; ++i) {
      ves.push_back(root.open(11220 + i));
      MUST(ves.back().create());
    }
    std::vector<std::string> failures(n);
    {
      // Whoever makes a cgroup level waits before setting it up (a cpuset's CPUs, v2's
      // controllers); the others, finding it, go on meanwhile.
      test::fault_scope pause("cgroup:level-made:pause");
      std::latch go(n);
      std::vector<std::thread> pool;
      for (int i = 0; i < n; ++i) {
        pool.emplace_back([&, i] {
          go.arrive_and_wait();
          if (auto r = ves[i].start(); !r) failures[i] = r.error().message();
        });
      }
      for (auto& t : pool) t.join();
    }
    auto cg = MUST(detail::host_cgroups());
    for (int i = 0; i < n; ++i) {
      INFO("VE " << ves[i].id().value() << ": " << failures[i]);
      CHECK(failures[i].empty());
      CHECK(MUST(ves[i].status()).state == ve_state::running);
      CHECK(MUST(cg->stats(MUST(detail::locate(root.path(), ves[i].id())).cgroup)).pids.enforced);
    }
    for (auto& v : ves) (void)v.stop({.fast = true});
    CHECK(test::leftovers(root).empty());
  }
}

TEST_CASE("a destroy that removes the shared cgroup parent does not fail a start racing it",
          "[ve][cgroups][threads]") {
  test::require_root();
  temp_root root;
  auto a = root.open(11230);
  auto b = root.open(11231);
  MUST(a.create());
  MUST(b.create());
  MUST(a.start());
  MUST(a.stop({.fast = true}));  // the parent stays, with no VE cgroup in it
  const auto parents = test::cgroup_parents(root);
  REQUIRE_FALSE(parents.empty());

  std::optional<result<void>> started;
  {
    // b's start waits at each parent it finds; a's destroy, the root's last stopped VE,
    // removes the parents b's cgroup is not in yet.
    test::fault_scope pause("cgroup:level-found:pause");
    std::thread starter([&] { started = b.start(); });
    auto in_one = [&] {
      for (const auto& p : parents)
        if (std::filesystem::exists(p / b.id().str())) return true;
      return false;
    };
    for (int waited = 0; waited < 5000 && !in_one(); ++waited)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto destroyed = a.destroy();
    starter.join();
    MUST(std::move(destroyed));
  }
  REQUIRE(started);
  MUST(std::move(*started));
  CHECK(MUST(b.status()).state == ve_state::running);
  MUST(b.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("stop --fast ends a VE whose processes fork in a loop and leaves nothing",
          "[ve][cgroups]") {
  test::require_root();
  test::running_ve running(11240);
  auto& v = running.v;
  REQUIRE(MUST(v.exec({"/bin/sh", "-c", fork_loop})).exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto cg = MUST(detail::host_cgroups());
  const auto pids = MUST(cg->procs(MUST(detail::locate(running.root.path(), v.id())).cgroup));
  CHECK(pids.size() > 5);
  MUST(v.stop({.fast = true}));
  auto st = MUST(v.status());
  CHECK(st.state == ve_state::stopped);
  CHECK(st.nproc == 0);
  for (pid_t pid : pids) CHECK_FALSE(test::pid_alive(pid));
  CHECK(test::leftovers(running.root).empty());
}

TEST_CASE("on cgroup v1 stop kills a frozen VE, and a stop killed while it is frozen leaves a "
          "VE the next stop ends", "[ve][cgroups]") {
  test::require_root();
  auto cg = MUST(detail::host_cgroups());
  if (cg->version() != 1) {
    WARN("cgroup v2: stop kills through cgroup.kill, not the v1 freezer; nothing to check here");
    return;
  }
  test::running_ve running(11241);
  auto& v = running.v;
  REQUIRE(MUST(v.exec({"/bin/sh", "-c", fork_loop})).exit_code == 0);
  const auto freezer = parent_with(running.root, "freezer.state") / v.id().str();

  CHECK(test::killed_at("cgroup:frozen", [&] { (void)v.stop({.fast = true}); }));
  CHECK(MUST(detail::read_file((freezer / "freezer.state").string())) == "FROZEN\n");
  CHECK(MUST(v.status()).state == ve_state::running);

  MUST(v.stop({.fast = true}));
  auto st = MUST(v.status());
  CHECK(st.state == ve_state::stopped);
  CHECK(st.nproc == 0);
  CHECK(test::leftovers(running.root).empty());
}

TEST_CASE("CGROUP_PATH in CTID.conf puts a VE's cgroup there, and a bad one is named",
          "[ve][cgroups]") {
  test::require_root();
  temp_root root;
  test::runtime_cgroups given(fmt::format("ovz-test-cgroup-path-{}", ::getpid()));
  auto v = root.open(11250);
  MUST(v.create());
  auto conf = MUST(v.config());
  const std::string path = "/" + given.top + "/slice/ve";
  MUST(conf.set("CGROUP_PATH", path));
  MUST(conf.save(v.conf_path()));
  MUST(v.start());
  const pid_t init = MUST(v.status()).init_pid;
  CHECK_THAT(MUST(detail::read_file(fmt::format("/proc/{}/cgroup", init))),
             Catch::Contains(":" + path + "\n"));
  CHECK_FALSE(given.read("slice/ve", "cgroup.procs").empty());
  for (const auto& row : MUST(v.beancounters()).stats)
    if (row.resource == ubc_resource::numproc) CHECK(row.held >= 1);
  // Nothing of it under the state root's own cgroup parent.
  for (const auto& dir : test::cgroup_parents(root))
    CHECK_FALSE(std::filesystem::exists(dir / v.id().str()));
  MUST(v.stop({.fast = true}));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  MUST(v.destroy());
  // The VE's own cgroup goes with it; the parents named for it stay their owner's.
  for (const auto& at : given.places()) {
    CHECK_FALSE(std::filesystem::exists(at / "slice/ve"));
    CHECK(std::filesystem::is_directory(at / "slice"));
  }

  auto bad = root.open(11251);
  MUST(bad.create());
  conf = MUST(bad.config());
  MUST(conf.set("CGROUP_PATH", "/a/../../b"));
  MUST(conf.save(bad.conf_path()));
  auto refused = bad.start();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(errc::bad_config));
  CHECK_THAT(refused.error().message(),
             Catch::StartsWith("VE 11251: CGROUP_PATH \"/a/../../b\": each name in it"));
  // Every operation that needs the cgroup says so, destroy too, until the file is mended.
  REQUIRE_FALSE(bad.destroy());
  CHECK(conf.erase("CGROUP_PATH"));
  MUST(conf.save(bad.conf_path()));
  MUST(bad.destroy());
  CHECK(test::leftovers(root).empty());
}
