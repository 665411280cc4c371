// Safe defaults against a hostile tenant: limits from a config sample at create, a devpts of
// its own capped by NUMPTY, RLIMIT_NOFILE from NUMFILE, settings no VE boots with refused.
// CTIDs 11300-11349.

#include "support/beancounters.hpp"
#include "support/enter_script.hpp"
#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/ve.hpp>

#include "model/layout.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

using namespace ovz;
using ovz::test::stat_of;
using ovz::test::temp_root;
using ovz::test::ubc;

namespace {

// The "Max open files" line of a /proc/PID/limits text, its soft and hard columns.
std::string open_files(const std::string& limits) {
  auto pos = limits.find("Max open files");
  if (pos == std::string::npos) return "(none in: " + limits + ")";
  auto line = limits.substr(pos, limits.find('\n', pos) - pos);
  std::istringstream words(line.substr(std::string("Max open files").size()));
  std::string soft, hard;
  words >> soft >> hard;
  return soft + ":" + hard;
}

// Raises the caller's own RLIMIT_NOFILE to its hard limit for the test's life, as a server
// with many clients does.
class huge_nofile {
 public:
  huge_nofile() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    const struct rlimit huge = {saved_.rlim_max, saved_.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &huge) == 0);
    REQUIRE(saved_.rlim_max != 2000);
  }
  ~huge_nofile() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  struct rlimit saved_ {};
};

}  // namespace

TEST_CASE("a VE created without a sample named gets the basic sample's limits", "[defaults]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11300);
  MUST(v.create());
  auto conf = MUST(v.config());
  CHECK(conf.get("ORIGIN_SAMPLE") == "basic");
  CHECK(conf.get("NUMPROC") == "240:240");
  MUST(v.start());
  auto numproc = stat_of(v, ubc_resource::numproc);
  CHECK(numproc.limit == 240);
  CHECK(numproc.enforced);
  auto phys = stat_of(v, ubc_resource::physpages);
  CHECK(phys.limit == 65536);  // 256M in pages
  CHECK(phys.enforced);
  // A memory hog no longer takes what the host has: 300 MiB cannot fit under 256.
  auto hog = MUST(v.exec({"/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=300M count=1"}));
  CHECK(hog.exit_code != 0);
  CHECK(stat_of(v, ubc_resource::physpages).failcnt > 0);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("create --config takes a shipped sample, or the state root's own", "[defaults]") {
  test::require_root();
  temp_root root;
  auto light = root.open(11301);
  MUST(light.create({.config = "light"}));
  CHECK(MUST(light.config()).get("NUMPROC") == "100:100");
  CHECK(MUST(light.config()).get("ORIGIN_SAMPLE") == "light");

  auto unlimited = root.open(11302);
  MUST(unlimited.create({.config = "unlimited"}));
  for (const auto& [r, value] : MUST(unlimited.params()).ubc) {
    INFO(to_string(r));
    CHECK(value.limit == ubc_unlimited);
  }

  // The state root's sample of a name wins over the shipped one, the default included.
  const auto conf_dir = root.path() / "conf";
  std::ofstream(conf_dir / "ve-basic.conf-sample") << "# ours\nNUMPROC=\"123\"\n";
  std::ofstream(conf_dir / "ve-site.conf-sample") << "NUMPROC=\"300:300\"\nNUMPTY=\"4\"\n";
  auto own_default = root.open(11303);
  MUST(own_default.create());
  auto conf = MUST(own_default.config());
  CHECK(conf.get("NUMPROC") == "123");
  CHECK_FALSE(conf.get("PHYSPAGES"));
  CHECK(test::read_text(own_default.conf_path()).rfind("# ours\n", 0) == 0);
  auto site = root.open(11304);
  MUST(site.create({.config = "site"}));
  CHECK(MUST(site.config()).get("NUMPTY") == "4");
}

TEST_CASE("a bad or missing sample is refused and creates nothing", "[defaults]") {
  test::require_root();
  temp_root root;
  std::filesystem::create_directories(root.path() / "conf");
  std::ofstream(root.path() / "conf" / "ve-tiny.conf-sample") << "NUMPROC=\"2\"\n";
  std::ofstream(root.path() / "conf" / "ve-broken.conf-sample") << "NUMPROC=\"lots\"\n";
  auto v = root.open(11305);
  struct refusal {
    const char* sample;
    errc code;
    const char* says;
  };
  for (const auto& [sample, code, says] :
       {refusal{"nosuch", errc::not_found, "shipped: basic, light, unlimited"},
        refusal{"../../etc/passwd", errc::invalid_argument, "bad config sample name"},
        refusal{"tiny", errc::invalid_argument, "the minimum is 8"},
        refusal{"broken", errc::bad_config, "NUMPROC"}}) {
    INFO(sample);
    auto r = v.create({.config = sample});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == make_error_code(code));
    CHECK(r.error().message().find(says) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(v.conf_path()));
    CHECK_FALSE(std::filesystem::exists(v.private_path()));
  }
}

TEST_CASE("a VE with numpty 8 cannot open a 9th pty, and another VE still can", "[defaults]") {
  test::require_root();
  temp_root root;
  auto small = root.open(11306);
  auto other = root.open(11307);
  MUST(small.create());
  MUST(other.create());
  MUST(small.set(ubc(ubc_resource::numpty, "8"), true));
  test::install_escape_probe(root, small);
  test::install_escape_probe(root, other);
  MUST(small.start());
  MUST(other.start());
  // The small VE holds what it got while the other one asks for its own.
  auto held = MUST(small.exec({"/bin/sh", "-c", "/escape_probe ptys 100 30 >/tmp/ptys 2>&1 </dev/null &"}));
  REQUIRE(held.exit_code == 0);
  std::string got;
  for (int i = 0; i < 100 && got.empty(); ++i) {
    got = MUST(small.exec({"/bin/cat", "/tmp/ptys"})).out;
    if (got.empty()) ::usleep(50000);
  }
  CHECK(got == "ptys 8 (No space left on device)\n");
  CHECK(MUST(other.exec({"/escape_probe", "ptys", "9"})).out == "ptys 9 (all opened)\n");
  CHECK(stat_of(small, ubc_resource::numpty).enforced);
  MUST(small.stop({.fast = true}));
  MUST(other.stop({.fast = true}));
}

TEST_CASE("VE processes get RLIMIT_NOFILE from numfile, not the caller's", "[defaults]") {
  test::require_root();
  huge_nofile caller;
  temp_root root;
  auto v = root.open(11308);
  MUST(v.create());
  MUST(v.set(ubc(ubc_resource::numfile, "1000:2000"), true));
  MUST(v.start());
  CHECK(open_files(MUST(v.exec({"/bin/cat", "/proc/1/limits"})).out) == "1000:2000");
  CHECK(open_files(MUST(v.exec({"/bin/cat", "/proc/self/limits"})).out) == "1000:2000");
  auto entered = test::enter_script(v, "cat /proc/self/limits; exit\n");
  CHECK(open_files(entered.seen) == "1000:2000");

  // Unlimited means a fixed default, still not the caller's: 1024 soft, 524288 hard (or the
  // caller's hard limit when it cannot raise one, without CAP_SYS_RESOURCE).
  auto free_ve = root.open(11309);
  MUST(free_ve.create({.config = "unlimited"}));
  MUST(free_ve.start());
  CHECK(open_files(MUST(free_ve.exec({"/bin/cat", "/proc/self/limits"})).out).rfind("1024:", 0) ==
        0);
  MUST(v.stop({.fast = true}));
  MUST(free_ve.stop({.fast = true}));
}

TEST_CASE("settings no VE can boot with are refused, naming the minimum", "[defaults]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11310);
  MUST(v.create());
  const auto before = test::read_text(v.conf_path());
  struct refusal {
    ve_params change;
    const char* says;
  };
  ve_params no_cpu;
  no_cpu.cpu.cpus = 0;
  for (const auto& [change, says] :
       {refusal{ubc(ubc_resource::numproc, "0"), "numproc 0 is too small for a VE to boot: the minimum is 8"},
        refusal{ubc(ubc_resource::physpages, "20P"), "the minimum is 4096 pages (16M)"},
        refusal{ubc(ubc_resource::numfile, "10"), "the minimum is 64"},
        refusal{no_cpu, "cpus 0 is too small for a VE to boot: the minimum is 1"}}) {
    INFO(says);
    auto r = v.set(change, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == make_error_code(errc::invalid_argument));
    CHECK(r.error().message().find(says) != std::string::npos);
  }
  CHECK(test::read_text(v.conf_path()) == before);

  // A CTID.conf edited by hand to such a value: the start says why instead of a dead init.
  std::ofstream(v.conf_path(), std::ios::app) << "PHYSPAGES=\"20P\"\n";
  auto r = v.start();
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("the minimum is 4096 pages") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
}
