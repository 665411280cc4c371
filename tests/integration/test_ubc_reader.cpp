// A ubc_reader held across reads: it must follow what happens to the VEs between two reads
// (new counts, live limits, edited configs, stops, restarts, destroys), not repeat what it
// read first; and where the ovz module is loaded, read the same numbers from it. CTIDs
// 17200-17202, 17205, 17206, 17209, 17210.

#include "support/beancounters.hpp"
#include "support/kmod.hpp"
#include "support/temp_root.hpp"

#include <ovz/ubc_reader.hpp>
#include <ovz/ve.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;
using ovz::test::ubc;

namespace {

const ubc_snapshot* of(const std::vector<ubc_snapshot>& snaps, const ve& v) {
  auto at = std::find_if(snaps.begin(), snaps.end(),
                         [&](const ubc_snapshot& s) { return s.id == v.id(); });
  return at == snaps.end() ? nullptr : &*at;
}

ubc_stat stat_in(const std::vector<ubc_snapshot>& snaps, const ve& v, ubc_resource r) {
  const ubc_snapshot* snap = of(snaps, v);
  if (!snap) FAIL("VE " << v.id().value() << " is not in the snapshot");
  for (const auto& s : snap->stats)
    if (s.resource == r) return s;
  FAIL("no " << to_string(r) << " in the snapshot");
  return {};
}

// The template's rcS runs once after a start; its shell is counted until it ends. Read from
// when init is alone, so that what an exec adds is what the next read must show.
std::vector<ubc_snapshot> read_settled(ubc_reader& reader, const ve& v) {
  auto snaps = MUST(reader.read());
  for (int i = 0; i < 250 && stat_in(snaps, v, ubc_resource::numproc).held > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    snaps = MUST(reader.read());
  }
  return snaps;
}

}  // namespace

TEST_CASE("a ubc_reader follows VEs and their counters from one read to the next",
          "[ubc][ubc-reader]") {
  test::require_root();
  temp_root root;
  auto reader = MUST(ubc_reader::open(root.path()));
  CHECK(MUST(reader.read()).empty());
  CHECK(reader.backend() == "cgroup files");

  auto a = root.open(17200);
  auto b = root.open(17201);
  MUST(a.create());
  MUST(b.create());
  MUST(a.start());
  // Only running VEs are reported; b exists but is stopped.
  auto snaps = read_settled(reader, a);
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0].id == a.id());
  const auto procs_before = stat_in(snaps, a, ubc_resource::numproc).held;
  const auto files_before = stat_in(snaps, a, ubc_resource::numfile).held;
  CHECK(procs_before >= 1);

  // New processes holding files show in the next read: the held files are read again.
  MUST(a.exec({"/bin/sh", "-c",
               "for i in 1 2 3 4 5; do sleep 300 </dev/null >/dev/null 2>&1 & done"}));
  snaps = MUST(reader.read());
  CHECK(stat_in(snaps, a, ubc_resource::numproc).held >= procs_before + 5);
  CHECK(stat_in(snaps, a, ubc_resource::numfile).held >= files_before + 5 * 3);

  // A live limit (in the kernel, not CTID.conf) and a saved one (CTID.conf only).
  MUST(a.set(ubc(ubc_resource::physpages, "0:96M"), false));
  MUST(a.set(ubc(ubc_resource::numfile, "1234"), true));
  snaps = MUST(reader.read());
  CHECK(stat_in(snaps, a, ubc_resource::physpages).limit == 96 * 256);
  CHECK(stat_in(snaps, a, ubc_resource::numfile).limit == 1234);
  // A CTID.conf edited by hand, in place.
  {
    std::ofstream conf(root.path() / "conf" / "17200.conf", std::ios::app);
    conf << "NUMPTY=\"77:77\"\n";
  }
  snaps = MUST(reader.read());
  CHECK(stat_in(snaps, a, ubc_resource::numpty).limit == 77);

  // The same numbers a one-off read gives.
  const auto once = MUST(all_beancounters(root.path()));
  for (ubc_resource r : {ubc_resource::physpages, ubc_resource::numfile, ubc_resource::numpty,
                         ubc_resource::numproc})
    CHECK(stat_in(once, a, r).limit == stat_in(snaps, a, r).limit);

  // Stopped, restarted (a new cgroup and init: the live limit is gone), another started.
  MUST(a.stop({.fast = true}));
  CHECK(MUST(reader.read()).empty());
  MUST(a.start());
  MUST(b.start());
  snaps = MUST(reader.read());
  REQUIRE(snaps.size() == 2);
  CHECK(stat_in(snaps, a, ubc_resource::physpages).limit == 65536);
  CHECK(stat_in(snaps, a, ubc_resource::numproc).held < procs_before + 5);
  CHECK(of(snaps, b));

  // Destroyed: gone from the next read.
  MUST(b.stop({.fast = true}));
  MUST(b.destroy());
  snaps = MUST(reader.read());
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0].id == a.id());
  MUST(a.stop({.fast = true}));
  MUST(a.destroy());
}

TEST_CASE("a ubc_reader out of descriptors says so and reads again once it has them; a "
          "one-off read holds one VE's at a time",
          "[ubc][ubc-reader]") {
  test::require_root();
  test::running_ve running(17202);
  auto second = running.root.open(17205);
  auto third = running.root.open(17206);
  for (auto* v : {&second, &third}) {
    MUST(v->create());
    MUST(v->start());
  }
  auto open_fds = [] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) (void)e, ++n;
    return n;
  };
  const int before = open_fds();
  int held = 0;
  {
    auto probe = MUST(ubc_reader::open(running.root.path()));
    REQUIRE(MUST(probe.read()).size() == 3);
    held = open_fds() - before;
  }
  INFO("a reader holds " << held << " descriptors for 3 VEs");
  REQUIRE(held >= 3 * 10);
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  // Room for half of what the three VEs' files take: more than one VE's.
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(before + held / 2);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  auto once = all_beancounters(running.root.path());
  auto reader = ubc_reader::open(running.root.path());
  auto refused = reader ? reader->read() : result<std::vector<ubc_snapshot>>(reader.error());
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  if (!once) FAIL(once.error().message());
  CHECK(once->size() == 3);
  REQUIRE(reader);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().sys_errno() == EMFILE);
  CHECK_THAT(refused.error().message(), Catch::Matchers::Contains("VE 1720"));
  auto snaps = MUST(reader->read());
  REQUIRE(snaps.size() == 3);
  CHECK(stat_in(snaps, running.v, ubc_resource::numproc).held >= 1);
  for (auto* v : {&running.v, &second, &third}) MUST(v->stop({.fast = true}));
}

namespace {

// Reads through the module between two from the files alone: counts of processes and
// refusals are the same; memory, which moves while the VE's last processes settle and with the
// kernel's own allocations for the reads, lies between the files' two readings, give or take
// a little.
void check_same(const ubc_snapshot& module, const ubc_snapshot& before, const ubc_snapshot& files) {
  REQUIRE(module.stats.size() == files.stats.size());
  REQUIRE(before.stats.size() == files.stats.size());
  for (std::size_t i = 0; i < files.stats.size(); ++i) {
    const ubc_stat& m = module.stats[i];
    const ubc_stat& b = before.stats[i];
    const ubc_stat& f = files.stats[i];
    INFO("VE " << files.id.value() << ", " << to_string(f.resource));
    REQUIRE(m.resource == f.resource);
    CHECK(m.measured == f.measured);
    CHECK(m.enforced == f.enforced);
    CHECK(m.barrier == f.barrier);
    CHECK(m.limit == f.limit);
    CHECK(m.failcnt == f.failcnt);
    const auto between = [](std::uint64_t x, std::uint64_t a, std::uint64_t b) {
      const auto [low, high] = std::minmax(a, b);
      const auto slack = std::max<std::uint64_t>(256, high / 50);
      return x + slack >= low && x <= high + slack;
    };
    CHECK(between(m.held, b.held, f.held));
    CHECK(between(m.maxheld, b.maxheld, f.maxheld));
  }
}

}  // namespace

TEST_CASE("where the ovz module is loaded, a ubc_reader reads the same numbers through it as "
          "from the files alone",
          "[kmod][ubc][ubc-reader]") {
  test::require_root();
  if (!test::module_here()) return;
  // A VE started while no module was loaded is not registered with it: read from its files.
  REQUIRE(test::unload_module() == 0);
  temp_root root;
  auto early = root.open(17209);
  auto late = root.open(17210);
  MUST(early.create());
  MUST(late.create());
  MUST(early.start());
  REQUIRE(test::module_here());
  MUST(late.start());
  {
    auto both = MUST(ubc_reader::open(root.path()));
    auto files = MUST(ubc_reader::open(root.path(), ubc_sources::files_only));
    CHECK(both.backend() == "ovz module + cgroup files");
    CHECK(files.backend() == "cgroup files");

    // Memory held in the VE's /dev/shm (tmpfs pages are charged to its memory cgroup), a
    // memory hog refused under physpages, a fork bomb refused under numproc, processes that
    // stay.
    for (auto* v : {&early, &late}) {
      MUST(v->set(ubc(ubc_resource::physpages, "0:96M"), false));
      MUST(v->set(ubc(ubc_resource::numproc, "24"), false));
      MUST(v->exec(
          {"/bin/sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null"}));
      CHECK(MUST(v->exec({"/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=128M count=1"}))
                .exit_code != 0);
      MUST(v->exec({"/bin/sh", "-c",
                    "for i in $(seq 40); do sleep 300 </dev/null >/dev/null 2>&1 & done"}));
    }
    const auto files_before = MUST(files.read());
    const auto with_module = MUST(both.read());
    const auto from_files = MUST(files.read());
    REQUIRE(with_module.size() == 2);
    REQUIRE(files_before.size() == 2);
    REQUIRE(from_files.size() == 2);
    for (auto* v : {&early, &late}) {
      INFO("VE " << v->id().value());
      CHECK(stat_in(with_module, *v, ubc_resource::physpages).held >= 48 * 256);
      CHECK(stat_in(with_module, *v, ubc_resource::physpages).failcnt > 0);
      CHECK(stat_in(with_module, *v, ubc_resource::numproc).held >= 20);
      CHECK(stat_in(with_module, *v, ubc_resource::numproc).failcnt > 0);
      check_same(*of(with_module, *v), *of(files_before, *v), *of(from_files, *v));
    }
  }
  MUST(early.stop({.fast = true}));
  test::stop_then_unload(late);
  MUST(early.destroy());
  MUST(late.destroy());
}
