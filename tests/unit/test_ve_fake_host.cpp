// VE operations against a fake cgroupfs: a host whose cgroup v2 hierarchy is a directory tree
// in a temporary directory, so that what ve/ reads and writes there is checked without root
// and without a kernel's cgroups (as youki tests its controllers).

#include <ovz/host.hpp>
#include <ovz/ve.hpp>

#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"
#include "ve/host_services.hpp"
#include "ve/locate.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace ovz;

namespace {

// A state root with VEs made by writing their CTID.conf, and a fake cgroup tree beside it.
struct fake_host {
  test::temp_dir dir;
  fs::path state = dir.path / "state";
  fs::path cgroups = dir.path / "cgroup";
  host on = host::with_cgroup_v2(cgroups);

  fake_host() {
    fs::create_directories(state / "conf");
    fs::create_directories(cgroups);
  }

  ve add(std::uint32_t id, const std::string& conf_text) {
    std::ofstream(state / "conf" / fmt::format("{}.conf", id)) << conf_text;
    fs::create_directories(state / "private" / std::to_string(id) / "fs");
    return MUST(ve::open(MUST(ctid::from_number(id)), state, on));
  }

  // Where the VE's cgroup is in the fake tree.
  fs::path cgroup_of(std::uint32_t id) const {
    return cgroups / MUST(detail::locate(state, MUST(ctid::from_number(id)))).cgroup;
  }

  std::string conf_of(std::uint32_t id) const {
    std::ifstream in(state / "conf" / fmt::format("{}.conf", id));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

}  // namespace

TEST_CASE("A host made on a directory tree is a cgroup v2 host", "[fake_host]") {
  test::temp_dir d;
  CHECK(host::with_cgroup_v2(d.path).cgroup_version() == 2);
  CHECK(host::with_cgroup_v2(d.path).cgroup_manager() == std::string("cgroupfs"));
}

TEST_CASE("cgroupfs makes and sets up a VE's cgroup before its init exists, for the init to "
          "be born in it", "[fake_host]") {
  test::temp_dir d;
  auto on = host::with_cgroup_v2(d.path);
  // What the kernel shows in every cgroup; the VE's own comes from its parent's offer.
  for (const auto& dir : {d.path, d.path / "p"}) {
    fs::create_directories(dir);
    std::ofstream(dir / "cgroup.controllers") << "";
    std::ofstream(dir / "cgroup.subtree_control") << "";
  }
  int setups = 0;
  auto birth = MUST(on.services().cg().begin("p/1", [&](const detail::ve_cgroup& made) {
    ++setups;
    CHECK(made.dirs.front().dir.path() == (d.path / "p/1").string());
    return success();
  }));
  CHECK(setups == 1);
  CHECK(birth.clone_fd() >= 0);
  std::ofstream(d.path / "p/1/cgroup.procs") << "";
  MUST(birth.admit(4242));
  CHECK(setups == 1);
  std::ifstream procs(d.path / "p/1/cgroup.procs");
  std::string pid;
  procs >> pid;
  CHECK(pid == "4242");
}

TEST_CASE("status reads a VE's cgroup in the host it was opened on", "[fake_host]") {
  fake_host h;
  auto v = h.add(13600, "HOSTNAME=\"fake\"\nOSTEMPLATE=\"busybox\"\n");
  auto st = MUST(v.status());
  CHECK(st.state == ve_state::stopped);
  CHECK(st.hostname == "fake");

  // A cgroup listing processes none of which is PID 1 of its own PID namespace holds no VE.
  fs::create_directories(h.cgroup_of(13600));
  std::ofstream(h.cgroup_of(13600) / "cgroup.procs") << ::getpid() << "\n";
  st = MUST(v.status());
  CHECK(st.state == ve_state::stopped);
  CHECK(st.init_pid == 0);
}

TEST_CASE("stop of a stopped VE cleans what a crash left in its host's cgroup tree",
          "[fake_host]") {
  fake_host h;
  auto v = h.add(13601, "HOSTNAME=\"fake\"\n");
  const auto cg = h.cgroup_of(13601);
  fs::create_directories(cg);
  std::ofstream(cg / "cgroup.procs").flush();
  auto stopped = v.stop();
  REQUIRE_FALSE(stopped);
  INFO(stopped.error().message());
  // A directory of the fake tree, unlike a cgroup, keeps its files: the rmdir of the clean-up
  // is refused, and the error names the fake tree, not /sys/fs/cgroup.
  CHECK(stopped.error().message().starts_with("VE 13601: "));
  CHECK(stopped.error().message().find(h.cgroups.string()) != std::string::npos);

  fs::remove_all(cg);
  stopped = v.stop();
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().is(errc::not_running));
  CHECK(stopped.error().message() == "VE 13601 is not running");
}

TEST_CASE("destroy removes the unused parent cgroup from its host's tree", "[fake_host]") {
  fake_host h;
  auto v = h.add(13602, "HOSTNAME=\"fake\"\n");
  fs::create_directories(h.cgroup_of(13602).parent_path());
  MUST(v.destroy());
  CHECK_FALSE(fs::exists(h.cgroup_of(13602).parent_path()));
  CHECK_FALSE(fs::exists(h.state / "conf" / "13602.conf"));
  CHECK_FALSE(fs::exists(h.state / "private" / "13602"));
  CHECK(fs::exists(h.cgroups));
}

TEST_CASE("set on a stopped VE writes CTID.conf and no cgroup", "[fake_host]") {
  fake_host h;
  auto v = h.add(13603, "HOSTNAME=\"fake\"\n");
  ve_params p;
  p.ubc.push_back({ubc_resource::numproc, {64, 64}});
  MUST(v.set(p, false));
  CHECK(h.conf_of(13603).find("NUMPROC=\"64:64\"") != std::string::npos);
  CHECK(fs::is_empty(h.cgroups));
  auto counters = MUST(v.beancounters());
  for (const auto& s : counters.stats) {
    if (s.resource != ubc_resource::numproc) continue;
    CHECK(s.barrier == 64);
    CHECK(s.limit == 64);
    CHECK_FALSE(s.measured);
  }
}

TEST_CASE("an operation's error names the VE once", "[fake_host]") {
  fake_host h;
  auto v = h.add(13604, "HOSTNAME=\"fake\"\nthis is not a setting\n");
  ve_params p;
  p.ubc.push_back({ubc_resource::numproc, {64, 64}});
  auto r = v.set(p, true);
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().is(errc::bad_config));
  CHECK(r.error().message().starts_with("VE 13604: "));
  CHECK(r.error().message().find("VE 13604", 1) == std::string::npos);
  CHECK(fs::is_empty(h.cgroups));

  auto stopped = h.add(13605, "HOSTNAME=\"fake\"\n").stop();
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().message() == "VE 13605 is not running");
}
