// Beancounters and CPU settings on the real kernel: limits that hold, failcnt that counts
// real refusals, live changes, and the report. CTIDs 1100-1149.

#include "support/beancounters.hpp"
#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <thread>

using namespace ovz;
using ovz::test::stat_of;
using ovz::test::temp_root;
using ovz::test::ubc;

namespace {

// CPU time the VE used, in microseconds.
std::uint64_t cpu_us(const ve& v) { return static_cast<std::uint64_t>(MUST(v.cpu_time()).count()); }

// Host PIDs of the probe's fork bomb processes started with this tag, wherever they are.
std::vector<pid_t> bombs_left(const std::string& tag) {
  std::vector<pid_t> found;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const pid_t pid = std::stoi(name);
    if (cmdline.find("forkbomb") != std::string::npos &&
        cmdline.find(tag) != std::string::npos && test::pid_alive(pid))
      found.push_back(pid);
  }
  return found;
}

constexpr const char* spinner = "while :; do :; done >/dev/null 2>&1 </dev/null &";

}  // namespace

// The bomb is the escape probe's: every process forks for ever and ignores failures, so it
// presses on the limit for as long as it runs instead of dying out.
TEST_CASE("a fork bomb in a VE with numproc 64 is contained and cannot starve the host",
          "[ubc][isolation]") {
  test::require_root();
  temp_root root;
  auto bomb_ve = root.open(1100);
  auto other = root.open(1101);
  MUST(bomb_ve.create());
  MUST(other.create());
  MUST(bomb_ve.set(ubc(ubc_resource::numproc, "64"), true));
  CHECK(MUST(bomb_ve.config()).get("NUMPROC") == "64:64");
  test::install_escape_probe(root, bomb_ve);
  MUST(bomb_ve.start());
  MUST(other.start());

  // Tagged with the state root, which no other test's bomb has in its command line.
  const std::string tag = root.path().string();
  MUST(bomb_ve.exec(
      {"/bin/sh", "-c", "/escape_probe forkbomb " + tag + " </dev/null >/dev/null 2>&1 &"}));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto first = stat_of(bomb_ve, ubc_resource::numproc);
  CHECK(first.limit == 64);
  CHECK(first.enforced);
  CHECK(first.failcnt > 0);
  // While it runs: the VE never holds more than its limit, the host still starts programs,
  // the other VE keeps working.
  for (int round = 0; round < 4; ++round) {
    CHECK(stat_of(bomb_ve, ubc_resource::numproc).held <= 64);
    CHECK(MUST(bomb_ve.status()).nproc <= 64);
    pid_t child = ::fork();
    if (child == 0) {
      ::execl("/bin/true", "true", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    REQUIRE(child > 0);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(MUST(other.exec({"/bin/sh", "-c", "echo fine"})).out == "fine\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto last = stat_of(bomb_ve, ubc_resource::numproc);
  CHECK(last.failcnt > first.failcnt);  // still refused, still pressing
  CHECK(last.maxheld <= 64);

  MUST(bomb_ve.stop({.fast = true}));
  MUST(other.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
  CHECK(bombs_left(tag).empty());
}

TEST_CASE("a memory hog is stopped by the physpages limit and failcnt counts it", "[ubc]") {
  test::require_root();
  temp_root root;
  auto hog = root.open(1102);
  auto other = root.open(1103);
  MUST(hog.create());
  MUST(other.create());
  MUST(hog.set(ubc(ubc_resource::physpages, "0:32M"), true));
  MUST(hog.start());
  MUST(other.start());

  // dd fills a buffer of its block size: 64 MiB cannot fit under 32.
  auto r = MUST(hog.exec({"/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"}));
  CHECK(r.exit_code != 0);
  auto phys = stat_of(hog, ubc_resource::physpages);
  CHECK(phys.limit == 8192);
  CHECK(phys.enforced);
  CHECK(phys.failcnt > 0);
  CHECK(phys.maxheld <= 8192);
  CHECK(stat_of(other, ubc_resource::physpages).failcnt == 0);
  CHECK(MUST(other.exec({"/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"}))
            .exit_code == 0);
}

TEST_CASE("cpu_time counts what a VE's processes ran, and nothing once it is stopped",
          "[ubc][cpu]") {
  test::require_root();
  temp_root root;
  auto v = root.open(14710);
  CHECK(v.cpu_time().error().code() == make_error_code(errc::not_found));
  MUST(v.create());
  CHECK(MUST(v.cpu_time()).count() == 0);
  MUST(v.start());
  const auto before = MUST(v.cpu_time());
  const auto t0 = std::chrono::steady_clock::now();
  // About a second of CPU in busybox sh, whatever else the host runs.
  auto out = MUST(v.exec({"/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"}));
  const auto wall = std::chrono::steady_clock::now() - t0;
  REQUIRE(out.exit_code == 0);
  const auto used = MUST(v.cpu_time()) - before;
  INFO("cpu_time grew " << used.count() << " us in " << std::chrono::duration_cast<
           std::chrono::microseconds>(wall).count() << " us of wall time");
  // The loop is one process on one CPU: its time is most of the wall time, never more.
  CHECK(used > std::chrono::duration_cast<std::chrono::microseconds>(wall) / 4);
  CHECK(used <= std::chrono::duration_cast<std::chrono::microseconds>(wall) +
                    std::chrono::milliseconds(20));
  MUST(v.stop({.fast = true}));
  CHECK(MUST(v.cpu_time()).count() == 0);
}

TEST_CASE("cpuunits share a contended CPU 1:3 and cpulimit caps a spinner", "[ubc][cpu]") {
  test::require_root();
  temp_root root;
  auto light = root.open(1104);
  auto heavy = root.open(1105);
  for (auto* v : {&light, &heavy}) {
    MUST(v->create());
    ve_params p;
    p.cpu.cpumask = "0";  // both on one CPU, so that they contend
    p.cpu.cpuunits = v == &light ? 1000 : 3000;
    MUST(v->set(p, true));
    MUST(v->start());
  }
  MUST(light.exec({"/bin/sh", "-c", spinner}));
  MUST(heavy.exec({"/bin/sh", "-c", spinner}));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto l0 = cpu_us(light), h0 = cpu_us(heavy);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  double ratio = double(cpu_us(heavy) - h0) / double(cpu_us(light) - l0);
  INFO("heavy/light CPU time ratio " << ratio);
  CHECK(ratio > 3 * 0.85);
  CHECK(ratio < 3 * 1.15);
  MUST(heavy.stop({.fast = true}));

  // Alone, light would take the whole CPU; cpulimit 25 holds it at a quarter, and a live
  // change to 50 takes effect at once. On a busy host the spinner gets less than the cap
  // anyway: the floors are what it got with no cap at all, when that is below the cap.
  auto share = [&] {
    auto c0 = cpu_us(light);
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto wall = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - t0).count();
    return double(cpu_us(light) - c0) / double(wall);
  };
  const double free = share();
  INFO("share with no cap: " << free);
  ve_params limit;
  limit.cpu.cpulimit = 25;
  MUST(light.set(limit, false));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double quarter = share();
  INFO("share at cpulimit 25: " << quarter);
  CHECK(quarter > 0.8 * std::min(0.25, free));
  CHECK(quarter < 0.30);
  limit.cpu.cpulimit = 50;
  MUST(light.set(limit, false));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double half = share();
  INFO("share at cpulimit 50: " << half);
  CHECK(half > 0.8 * std::min(0.5, free));
  CHECK(half < 0.55);
  CHECK_FALSE(MUST(light.params()).cpu.cpulimit.has_value());  // not saved
  MUST(light.stop({.fast = true}));
}

TEST_CASE("limits change live, are saved on request and apply at the next start", "[ubc]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1106);
  MUST(v.create());
  MUST(v.set(ubc(ubc_resource::numproc, "100"), false));  // stopped: saved regardless
  CHECK(MUST(v.config()).get("NUMPROC") == "100:100");
  MUST(v.start());
  CHECK(stat_of(v, ubc_resource::numproc).limit == 100);

  MUST(v.set(ubc(ubc_resource::numproc, "20"), false));
  CHECK(MUST(v.config()).get("NUMPROC") == "100:100");  // live only
  // 25 sleeps cannot all start under a limit of 20.
  MUST(v.exec({"/bin/sh", "-c", "for i in $(seq 25); do sleep 1 & done; wait"}));
  CHECK(stat_of(v, ubc_resource::numproc).failcnt > 0);

  MUST(v.set(ubc(ubc_resource::numproc, "200"), true));
  CHECK(MUST(v.config()).get("NUMPROC") == "200:200");
  MUST(v.restart({.fast = true}));
  CHECK(stat_of(v, ubc_resource::numproc).limit == 200);
  CHECK(stat_of(v, ubc_resource::numproc).failcnt == 0);  // a new cgroup counts afresh
  MUST(v.stop({.fast = true}));
}

// CTID 13000 (from the range 13000-13009).
TEST_CASE("a live change not saved is the limit the report gives", "[ubc][ubc-live]") {
  test::require_root();
  test::running_ve running(13000);
  auto& v = running.v;
  // The basic sample's NUMPROC="240:240" and PHYSPAGES="0:256M", now changed live only.
  MUST(v.set(ubc(ubc_resource::numproc, "50"), false));
  MUST(v.set(ubc(ubc_resource::physpages, "0:128M"), false));
  const auto saved = MUST(v.params()).ubc;
  CHECK(std::count(saved.begin(), saved.end(),
                   std::pair{ubc_resource::numproc, ubc_value{240, 240}}) == 1);
  CHECK(std::count(saved.begin(), saved.end(),
                   std::pair{ubc_resource::physpages, ubc_value{0, 65536}}) == 1);

  auto numproc = stat_of(v, ubc_resource::numproc);
  CHECK(numproc.barrier == 50);
  CHECK(numproc.limit == 50);
  auto phys = stat_of(v, ubc_resource::physpages);
  CHECK(phys.barrier == 0);
  CHECK(phys.limit == 32768);
  auto all = MUST(all_beancounters(running.root.path()));
  REQUIRE(all.size() == 1);
  for (const auto& s : all[0].stats) {
    if (s.resource == ubc_resource::numproc) CHECK(s.limit == 50);
    if (s.resource == ubc_resource::physpages) CHECK(s.limit == 32768);
  }
  // A resource no kernel limit binds live (NUMFILE binds each process at its start) keeps
  // CTID.conf's numbers.
  MUST(v.set(ubc(ubc_resource::numfile, "4096"), false));
  CHECK(stat_of(v, ubc_resource::numfile).limit == 9312);

  MUST(v.set(ubc(ubc_resource::numproc, "unlimited"), false));
  CHECK(stat_of(v, ubc_resource::numproc).limit == ubc_unlimited);
  CHECK(stat_of(v, ubc_resource::numproc).barrier == 240);

  // A start applies CTID.conf again.
  MUST(v.restart({.fast = true}));
  CHECK(stat_of(v, ubc_resource::numproc).limit == 240);
  CHECK(stat_of(v, ubc_resource::physpages).limit == 65536);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("bad values are refused and change nothing", "[ubc]") {
  test::require_root();
  test::running_ve running(1107);
  auto& v = running.v;
  MUST(v.set(ubc(ubc_resource::numproc, "50"), true));
  auto conf_before = MUST(v.config()).serialize();

  ve_params inverted;
  inverted.ubc.push_back({ubc_resource::numproc, ubc_value{100, 10}});
  inverted.cpu.cpuunits = 2000;
  auto r = v.set(inverted, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(r.error().message().find("numproc") != std::string::npos);

  ve_params bad_cpu;
  bad_cpu.cpu.cpuunits = 7;
  REQUIRE_FALSE(v.set(bad_cpu, true));
  bad_cpu.cpu.cpuunits.reset();
  bad_cpu.cpu.cpumask = "0-";
  REQUIRE_FALSE(v.set(bad_cpu, true));

  for (const char* text : {"-1", "10:5", "12Q", "1P"})
    CHECK_FALSE(parse_ubc_value(ubc_resource::numproc, text));
  CHECK_FALSE(parse_ubc_resource("numbogus"));

  CHECK(MUST(v.config()).serialize() == conf_before);
  CHECK(stat_of(v, ubc_resource::numproc).limit == 50);
  auto cg = MUST(detail::host_cgroups());
  CHECK(MUST(cg->stats(MUST(detail::locate(running.root.path(), v.id())).cgroup)).pids.enforced);
}

TEST_CASE("the user_beancounters report parses back to the numbers the API gives", "[ubc]") {
  test::require_root();
  temp_root root;
  auto a = root.open(1108);
  auto b = root.open(1109);
  MUST(a.create());
  MUST(b.create());
  MUST(a.set(ubc(ubc_resource::numproc, "77"), true));
  MUST(a.start());
  MUST(b.start());
  MUST(b.exec({"/bin/sh", "-c", "sleep 100 >/dev/null 2>&1 </dev/null &"}));
  auto snaps = MUST(all_beancounters(root.path()));
  REQUIRE(snaps.size() == 2);
  auto text = format_user_beancounters(snaps);
  INFO(text);
  CHECK(text.rfind("Version: 2.5\n", 0) == 0);
  CHECK(text.find("\n     1108:  kmemsize ") != std::string::npos);
  auto parsed = MUST(parse_user_beancounters(text));
  REQUIRE(parsed.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(parsed[i].id == snaps[i].id);
    REQUIRE(parsed[i].stats.size() == snaps[i].stats.size());
    for (std::size_t j = 0; j < snaps[i].stats.size(); ++j) {
      CHECK(parsed[i].stats[j].resource == snaps[i].stats[j].resource);
      CHECK(parsed[i].stats[j].held == snaps[i].stats[j].held);
      CHECK(parsed[i].stats[j].maxheld == snaps[i].stats[j].maxheld);
      CHECK(parsed[i].stats[j].barrier == snaps[i].stats[j].barrier);
      CHECK(parsed[i].stats[j].limit == snaps[i].stats[j].limit);
      CHECK(parsed[i].stats[j].failcnt == snaps[i].stats[j].failcnt);
    }
  }
  // Real measurements: b runs init, a shell's sleep, and holds open files.
  auto numproc_b = stat_of(b, ubc_resource::numproc);
  CHECK(numproc_b.measured);
  CHECK(numproc_b.held >= 2);
  CHECK(stat_of(b, ubc_resource::numfile).held >= 3);
  CHECK(stat_of(b, ubc_resource::physpages).held > 0);
  CHECK(stat_of(a, ubc_resource::numproc).limit == 77);
  CHECK_FALSE(stat_of(a, ubc_resource::dcachesize).measured);
  MUST(a.stop({.fast = true}));
  MUST(b.stop({.fast = true}));
}

TEST_CASE("a watcher reports growing failcnt as it happens", "[ubc][watch]") {
  test::require_root();
  test::running_ve running(1110);
  auto& v = running.v;
  MUST(v.set(ubc(ubc_resource::numproc, "10"), false));
  boost::asio::io_context io;
  std::vector<ubc_event> events;
  auto watcher = MUST(ubc_watcher::start(io, v, [&](const ubc_event& e) {
    events.push_back(e);
    io.stop();
  }, std::chrono::milliseconds(200)));
  io.run_for(std::chrono::milliseconds(300));
  CHECK(events.empty());  // nothing failed yet

  MUST(v.exec({"/bin/sh", "-c", "for i in $(seq 15); do sleep 1 & done; wait"}));
  io.restart();
  io.run_for(std::chrono::seconds(5));
  REQUIRE_FALSE(events.empty());
  CHECK(events[0].id == v.id());
  CHECK(events[0].resource == ubc_resource::numproc);
  CHECK(events[0].failcnt > events[0].previous);
  CHECK(events[0].failcnt == stat_of(v, ubc_resource::numproc).failcnt);
}
