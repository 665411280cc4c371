// Bad input gets a clear error and changes nothing; crashes leave nothing that status cannot
// explain and stop/destroy cannot clean. CTIDs 1050-1099.

#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"
#include "ve/lock.hpp"

#include <fmt/format.h>

#include <fstream>
#include <string>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;

namespace {

// Every file under a directory with its size, to see that a refused call changed nothing.
std::string snapshot(const std::filesystem::path& dir) {
  std::string s;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().string().find("/template/") != std::string::npos) continue;
    s += it->path().string();
    if (it->is_regular_file(ec)) s += " " + std::to_string(it->file_size(ec));
    s += "\n";
  }
  return s;
}

void expect_error(const result<void>& r, errc code, const std::string& words) {
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().is(code));
  CHECK(r.error().message().find(words) != std::string::npos);
}

}  // namespace

TEST_CASE("invalid CTIDs are refused", "[ve][errors]") {
  CHECK_FALSE(ctid::from_number(0));
  CHECK_FALSE(ctid::from_number(2147483648ull));
  auto bad = ctid::parse("10x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(errc::invalid_argument));
  CHECK(bad.error().message().find("10x") != std::string::npos);
}

TEST_CASE("creating an existing VE fails and leaves it as it was", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1050);
  MUST(v.create({.hostname = "first"}));
  auto before = snapshot(root.path());
  expect_error(v.create({.hostname = "second"}), errc::already_exists, "VE 1050 already exists");
  CHECK(snapshot(root.path()) == before);
  CHECK(MUST(v.config()).get("HOSTNAME") == "first");
}

TEST_CASE("a missing template or a bad hostname creates nothing", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1051);
  expect_error(v.create({.ostemplate = "no-such-template"}), errc::not_found, "no-such-template");
  expect_error(v.create({.hostname = "under_score"}), errc::invalid_argument, "under_score");
  expect_error(v.create({.ostemplate = "../etc"}), errc::invalid_argument, "../etc");
  CHECK(MUST(v.status()).state == ve_state::absent);
  auto l = detail::layout_of(root.path(), v.id());
  CHECK_FALSE(std::filesystem::exists(l.private_dir));
  CHECK_FALSE(std::filesystem::exists(l.conf));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("starting a running VE fails and leaves it running as it was", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1052);
  auto other = root.open(1053);
  MUST(v.create());
  MUST(other.create());
  MUST(other.start());
  const pid_t other_init = MUST(other.status()).init_pid;
  MUST(v.start());
  auto st = MUST(v.status());
  expect_error(v.start(), errc::already_running, "already running");
  auto after = MUST(v.status());
  CHECK(after.init_pid == st.init_pid);
  CHECK(MUST(other.status()).init_pid == other_init);
  MUST(v.stop({.fast = true}));
  MUST(other.stop({.fast = true}));
}

TEST_CASE("exec into a stopped VE or stopping it fails without side effects", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1054);
  MUST(v.create());
  auto before = snapshot(root.path());
  auto r = v.exec({"/bin/true"});
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::not_running));
  CHECK(r.error().message().find("VE 1054 is not running") != std::string::npos);
  expect_error(v.stop(), errc::not_running, "not running");
  CHECK(snapshot(root.path()) == before);
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("operations on a VE that does not exist say so", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1055);
  expect_error(v.start(), errc::not_found, "VE 1055 does not exist");
  expect_error(v.destroy(), errc::not_found, "VE 1055 does not exist");
  expect_error(v.set_hostname("x", true), errc::not_found, "VE 1055 does not exist");
  CHECK(test::leftovers(root).empty());
  CHECK_FALSE(std::filesystem::exists(detail::layout_of(root.path(), v.id()).conf));
}

TEST_CASE("a running VE cannot be destroyed", "[ve][errors]") {
  test::require_root();
  test::running_ve running(1056);
  auto& v = running.v;
  expect_error(v.destroy(), errc::already_running, "stop it first");
  CHECK(MUST(v.status()).state == ve_state::running);
  CHECK(MUST(v.exec({"/bin/true"})).exit_code == 0);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a malformed config line is named and the VE does not start", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1057);
  MUST(v.create());
  auto l = detail::layout_of(root.path(), v.id());
  // The bad line comes after what create wrote (the sample's lines, then the VE's keys).
  std::size_t lines = 0;
  {
    std::ifstream in(l.conf);
    for (std::string line; std::getline(in, line);) ++lines;
  }
  std::ofstream(l.conf, std::ios::app) << "PHYSPAGES=\"0:256M\n";
  auto r = v.start();
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().is(errc::bad_config));
  CHECK(r.error().message().find(fmt::format("line {}:", lines + 1)) != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("an init that cannot be executed is reported and leaves nothing", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1058);
  MUST(v.create());
  auto r = v.start({.init = {"/sbin/no-such-init"}});
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().sys_errno() == ENOENT);
  CHECK(r.error().message().find("VE 1058") != std::string::npos);
  CHECK(r.error().message().find("/sbin/no-such-init") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("one operation per VE at a time", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1059);
  MUST(v.create());
  auto l = detail::layout_of(root.path(), v.id());
  {
    auto held = detail::ve_lock::acquire(l, v.id());
    REQUIRE(held);
    expect_error(v.start(), errc::locked,
                 "VE 1059 is locked by another operation (PID " + std::to_string(::getpid()) + ")");
    expect_error(v.destroy(), errc::locked, "locked");
    CHECK(MUST(v.status()).state == ve_state::stopped);  // reading needs no lock
  }
  MUST(v.start());
  MUST(v.stop({.fast = true}));
}

TEST_CASE("what a crashed caller left is explained by status and cleaned by stop, start and "
          "destroy", "[ve][errors]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1060);
  MUST(v.create());
  auto l = MUST(detail::locate(root.path(), v.id()));
  auto cg = MUST(detail::host_cgroups());

  // A crash between making the cgroup and starting init: an empty cgroup.
  MUST(cg->create(l.cgroup));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  expect_error(v.stop(), errc::not_running, "not running");
  CHECK(test::leftovers(root).empty());

  MUST(cg->create(l.cgroup));
  MUST(v.start());
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());

  MUST(cg->create(l.cgroup));
  MUST(v.destroy());
  CHECK(test::leftovers(root).empty());

  // A crash in the middle of create or destroy: directories the next create removes.
  auto creating = l.private_dir.parent_path() / ".1060.creating";
  std::filesystem::create_directories(creating / "fs");
  std::filesystem::create_directories(l.private_dir / "fs" / "stale");
  CHECK(MUST(v.status()).state == ve_state::absent);
  MUST(v.create());
  CHECK_FALSE(std::filesystem::exists(creating));
  CHECK_FALSE(std::filesystem::exists(l.private_dir / "fs" / "stale"));
}

TEST_CASE("VEs start, run commands and stop from many threads at once", "[ve][threads]") {
  test::require_root();
  temp_root root;
  constexpr int threads = 4;
  std::vector<std::thread> pool;
  std::vector<std::string> failures(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto v = root.open(1070 + t);
      auto note = [&](const char* what, const error& e) { failures[t] += std::string(what) + ": " + e.message() + "\n"; };
      if (auto r = v.create(); !r) return note("create", r.error());
      if (auto r = v.start(); !r) return note("start", r.error());
      for (int i = 0; i < 10; ++i) {
        auto r = v.exec({"/bin/sh", "-c", "echo $((" + std::to_string(i) + " + 1))"});
        if (!r) return note("exec", r.error());
        if (r->out != std::to_string(i + 1) + "\n") failures[t] += "wrong output " + r->out;
      }
      if (auto r = v.stop({.fast = true}); !r) return note("stop", r.error());
      if (auto r = v.destroy(); !r) return note("destroy", r.error());
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) {
    INFO("thread " << t << ": " << failures[t]);
    CHECK(failures[t].empty());
  }
  CHECK(test::leftovers(root).empty());
}
