// OCI containers through their lifecycle as conmon and containerd's shim drive it: create
// leaves the process waiting, start lets it run, state, kill, delete, exec, hooks, pause and
// update, and the cgroup the caller names. Each test's state root is its own.

#include "support/bundle.hpp"
#include "support/program.hpp"
#include "support/runtime_cgroups.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <ovz/oci_container.hpp>
#include <ovz/ve.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>

using namespace ovz;
using Catch::Contains;
using ovz::test::bundle;
using ovz::test::pipe_pair;
using ovz::test::wait_stopped;
namespace fs = std::filesystem;

TEST_CASE("an OCI container waits after create, runs at start, and delete leaves nothing",
          "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("echo hello from $(hostname) as pid $$; read line; echo got $line");
  pipe_pair in, out;
  oci_io opts;
  opts.stdin_fd = in.r.get();
  opts.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), "web-1", b.dir, opts));

  auto s = MUST(c.state());
  CHECK(s.status == oci_status::created);
  CHECK(s.id == "web-1");
  CHECK(s.bundle == b.dir);
  CHECK(s.rootfs == b.dir / "rootfs");
  CHECK(s.annotations.at("org.openvz.ubc.numproc") == "24:24");
  REQUIRE(s.pid > 0);
  REQUIRE(s.ve);
  // Set up, not run: nothing written yet. A VE like any other once it runs, its settings in
  // CTID.conf.
  CHECK_FALSE(out.has_data(100));
  auto v = MUST(ve::open(*s.ve, root.path()));
  auto conf = MUST(v.config());
  CHECK(conf.get("NAME") == "web-1");
  CHECK(conf.get("NUMPROC") == "24:24");
  CHECK(conf.get("VE_LAYOUT") == "simfs");

  MUST(c.start());
  REQUIRE(out.has_data(5000));
  char first[64] = {};
  CHECK(::read(out.r.get(), first, sizeof first - 1) > 0);
  CHECK(std::string(first) == "hello from oci-test as pid 1\n");
  CHECK(MUST(c.state()).status == oci_status::running);
  auto st = MUST(v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.init_pid == s.pid);
  REQUIRE(::write(in.w.get(), "bye\n", 4) == 4);
  in.w.reset();
  CHECK(out.drain() == "got bye\n");
  REQUIRE(wait_stopped(c));
  s = MUST(c.state());
  CHECK(s.pid == 0);
  auto again = c.start();
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == errc::not_running);

  MUST(c.destroy());
  auto gone = oci_container::open(root.path(), "web-1");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code() == errc::not_found);
  CHECK_THAT(gone.error().message(), Contains("container does not exist"));
  CHECK(MUST(v.status()).state == ve_state::absent);
  CHECK(test::leftovers(root).empty());
  CHECK(test::cgroup_parents(root).empty());

  // The ID is free again.
  auto reused = MUST(oci_container::create(root.path(), "web-1", b.dir));
  MUST(reused.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("state asked while create is at work waits for it, and never says stopped",
          "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("echo ran");
  // What crun's test suite and a script racing its own `create &` do: ask until it answers.
  std::atomic<bool> created = false;
  std::vector<std::string> seen;
  std::thread asker([&] {
    // Until it has an answer, and at least once after create returned.
    for (bool last = false; !last;) {
      last = created;
      auto c = oci_container::open(root.path(), "race-1");
      if (!c) continue;
      auto s = c->state();
      seen.push_back(s ? to_string(s->status) : s.error().message());
      if (s) break;
    }
  });
  auto c = oci_container::create(root.path(), "race-1", b.dir);
  created = true;
  asker.join();
  REQUIRE(c);
  REQUIRE_FALSE(seen.empty());
  for (const auto& s : seen) CHECK(s == "created");
  MUST(c->destroy(true));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("an OCI container's hooks run on the host with its state, and a failing one stops "
          "create", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  // A startContainer hook runs in the container (its /tmp), before the process; a
  // createContainer hook in its namespaces before the pivot, where its mounts are on the
  // bundle's root.
  b.configure("echo inside; grep -o '\"status\": \"[a-z]*\"' /tmp/from-hook; cat /tmp/from-create");
  const auto out = root.path() / "hooks";
  fs::create_directories(out);
  auto saves = [&](const std::string& file) {
    return fmt::format(R"({{"path": "/bin/sh", "args": ["sh", "-c", "cat > {}/{}"]}})",
                       out.string(), file);
  };
  const std::string create_hook = fmt::format(
      R"({{"path": "/bin/sh", "args": ["sh", "-c", "grep -o '\"status\": \"[a-z]*\"' > {0}/tmp/from-create; hostname >> {0}/tmp/from-create"]}})",
      (b.dir / "rootfs").string());
  b.add_hooks(fmt::format(R"({{"createRuntime": [{}], "prestart": [{}], "poststart": [{}],
                                "poststop": [{}], "startContainer": [{}], "createContainer": [{}]}})",
                           saves("created"), saves("prestart"), saves("started"), saves("stopped"),
                           R"({"path": "/bin/sh", "args": ["sh", "-c", "cat > /tmp/from-hook"]})",
                           create_hook));
  pipe_pair said;
  oci_io io;
  io.stdout_fd = said.w.get();
  auto c = MUST(oci_container::create(root.path(), "hook-1", b.dir, io));
  const auto pid = MUST(c.state()).pid;
  for (const char* file : {"created", "prestart"}) {
    const auto state = test::read_text(out / file);
    INFO(state);
    CHECK_THAT(state, Contains(R"("status": "creating")"));
    CHECK_THAT(state, Contains(R"("id": "hook-1")"));
    CHECK_THAT(state, Contains(fmt::format(R"("pid": {})", pid)));
  }
  CHECK_FALSE(fs::exists(out / "started"));
  MUST(c.start());
  CHECK_THAT(test::read_text(out / "started"), Contains(R"("status": "running")"));
  REQUIRE(wait_stopped(c));
  CHECK(said.drain() == "inside\n\"status\": \"created\"\n\"status\": \"creating\"\noci-test\n");
  // Written into the container's /tmp, not the bundle's directory below it.
  CHECK_FALSE(fs::exists(b.dir / "rootfs/tmp/from-create"));
  CHECK_FALSE(fs::exists(out / "stopped"));
  MUST(c.destroy());
  CHECK_THAT(test::read_text(out / "stopped"), Contains(R"("status": "stopped")"));

  // A prestart hook that fails (or outlives its timeout) fails create, which leaves nothing.
  for (const auto& [hook, said] :
       {std::pair<std::string, std::string>{
            R"({"path": "/bin/sh", "args": ["sh", "-c", "echo no network for you >&2; exit 4"]})",
            "hooks.prestart[0] (/bin/sh) exited with status 4: no network for you"},
        {R"({"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1})",
         "hooks.prestart[0] (/bin/sleep) did not end within its timeout of 1 s"}}) {
    b.configure("echo ran");
    b.add_hooks(fmt::format(R"({{"prestart": [{}]}})", hook));
    auto refused = oci_container::create(root.path(), "hook-2", b.dir);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == errc::child_failed);
    CHECK_THAT(refused.error().message(), Contains(said));
    CHECK(test::leftovers(root).empty());
    CHECK(test::cgroup_parents(root).empty());
  }
  // A failing startContainer hook fails start and stops the container.
  b.configure("echo ran");
  b.add_hooks(R"({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 5"]}]})");
  auto stopped = MUST(oci_container::create(root.path(), "hook-3", b.dir));
  auto failed = stopped.start();
  REQUIRE_FALSE(failed);
  CHECK_THAT(failed.error().message(), Contains("hooks.startContainer[0] (/bin/sh) exited with status 5"));
  REQUIRE(wait_stopped(stopped));
  MUST(stopped.destroy());
  // A failing createContainer hook fails create, which leaves nothing.
  b.add_hooks(R"({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 6"]}]})");
  auto refused = oci_container::create(root.path(), "hook-4", b.dir);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == errc::child_failed);
  CHECK_THAT(refused.error().message(),
             Contains("hooks.createContainer[0] (/bin/sh) exited with status 6"));
  CHECK(test::leftovers(root).empty());
  CHECK(test::cgroup_parents(root).empty());
}

TEST_CASE("kill and delete of OCI containers behave as runc's", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("sleep 30 & sleep 30 & wait");

  SECTION("a created container is killed, or deleted without --force") {
    auto c = MUST(oci_container::create(root.path(), "c1", b.dir));
    auto d = MUST(oci_container::create(root.path(), "c2", b.dir));
    MUST(c.kill(SIGKILL));
    REQUIRE(wait_stopped(c));
    auto stopped = c.kill(SIGTERM);
    REQUIRE_FALSE(stopped);
    CHECK(stopped.error().code() == errc::not_running);
    CHECK_THAT(stopped.error().message(), Contains("container not running"));
    MUST(c.kill(SIGTERM, true));  // --all of a stopped container: nothing to do
    MUST(c.destroy());
    MUST(d.destroy());
  }
  SECTION("a running container is deleted only with --force") {
    auto c = MUST(oci_container::create(root.path(), "r1", b.dir));
    MUST(c.start());
    for (int i = 0; i < 100 && MUST(c.processes()).size() < 3; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(MUST(c.processes()).size() == 3);
    CHECK(MUST(c.state()).status == oci_status::running);
    auto refused = c.destroy();
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message(),
               Contains("cannot delete container r1 that is not stopped: running"));
    MUST(c.destroy(true));
  }
  CHECK(test::leftovers(root).empty());
  CHECK(test::cgroup_parents(root).empty());
}

TEST_CASE("exec runs a process in an OCI container, as its caller's child or detached",
          "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("exec sleep 30");
  auto c = MUST(oci_container::create(root.path(), "x1", b.dir));
  MUST(c.start());
  const pid_t init = MUST(c.state()).pid;

  oci_process p;
  p.args = {"/bin/sh", "-c", "echo $(hostname) $$ $(id -u); exit 3"};
  p.env = {"PATH=/bin"};
  p.user.uid = 1000;
  pipe_pair out;
  oci_io io;
  io.stdout_fd = out.w.get();
  auto fg = MUST(c.exec(p, io, false));
  CHECK(MUST(fg.wait()) == 3);
  const std::string said = out.drain();
  // The container's hostname, a PID of its namespace (not 1: init is), uid 1000.
  CHECK_THAT(said, Catch::Matches("oci-test [0-9]+ 1000\n"));
  CHECK(said.find(" 1 ") == std::string::npos);

  // Descriptors passed on become its 3, 4, …, a -1 a gap; nothing else of ours is there.
  pipe_pair passed;
  p.args = {"/bin/sh", "-c", "echo via 4 >&4; ls /proc/self/fd"};
  io.pass_fds = {-1, passed.w.get()};
  pipe_pair listing;
  io.stdout_fd = listing.w.get();
  CHECK(MUST(MUST(c.exec(p, io, false)).wait()) == 0);
  io.pass_fds.clear();
  CHECK(passed.drain() == "via 4\n");
  // 0-2, 4, and ls's own directory descriptor (3, the gap's number).
  CHECK(listing.drain() == "0\n1\n2\n3\n4\n");

  // systemd's sockets among them: said so in the environment, to PID 1 of the namespace.
  pipe_pair activated;
  p.env = {"PATH=/bin", "LISTEN_PID=77"};
  p.args = {"/bin/sh", "-c", "echo $LISTEN_FDS $LISTEN_PID >&3"};
  io.pass_fds = {activated.w.get()};
  io.listen_fds = 1;
  CHECK(MUST(MUST(c.exec(p, io, false)).wait()) == 0);
  CHECK(activated.drain() == "1 1\n");
  io.listen_fds = 2;
  auto too_many = c.exec(p, io, false);
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().code() == errc::invalid_argument);
  io.pass_fds.clear();
  io.listen_fds = 0;
  p.env = {"PATH=/bin"};

  p.args = {"/bin/sleep", "30"};
  auto bg = MUST(c.exec(p, {}, true));
  const auto pids = MUST(c.processes());
  CHECK(std::find(pids.begin(), pids.end(), bg.pid()) != pids.end());
  CHECK(std::find(pids.begin(), pids.end(), init) != pids.end());
  CHECK(test::read_text(fmt::format("/proc/{}/comm", bg.pid())) == "sleep\n");

  p.args = {"/bin/no-such-program"};
  auto missing = c.exec(p);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().sys_errno() == ENOENT);

  MUST(c.kill(SIGKILL, true));
  REQUIRE(wait_stopped(c));
  p.args = {"/bin/true"};
  auto stopped = c.exec(p);
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().code() == errc::not_running);
  MUST(c.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("an OCI container is paused and resumed, and its limits updated live", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("exec sleep 30");
  auto c = MUST(oci_container::create(root.path(), "p1", b.dir));
  oci_resources r;
  r.pids_limit = 40;
  auto early = c.update(r);
  REQUIRE_FALSE(early);
  CHECK(early.error().code() == errc::not_running);
  MUST(c.start());
  const pid_t pid = MUST(c.state()).pid;
  MUST(c.pause());
  auto paused = MUST(c.state());
  CHECK(paused.status == oci_status::paused);
  CHECK(paused.pid == pid);
  auto twice = c.pause();
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code() == errc::not_running);
  MUST(c.update(r));  // paused: applied all the same
  MUST(c.resume());
  CHECK(MUST(c.state()).status == oci_status::running);

  r.memory_limit = 96 << 20;
  MUST(c.update(r));
  auto v = MUST(ve::open(*MUST(c.state()).ve, root.path()));
  for (const auto& row : MUST(v.beancounters()).stats) {
    if (row.resource == ubc_resource::numproc) CHECK(row.limit == 40);
    if (row.resource == ubc_resource::physpages)
      CHECK(row.limit == (96u << 20) / static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  }
  CHECK(MUST(v.config()).get("NUMPROC") == "40:40");
  MUST(c.destroy(true));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("an OCI container's cgroupsPath is its VE's cgroup, taken only when no one is in it",
          "[oci][cgroups]") {
  test::require_root();
  test::temp_root root;
  test::runtime_cgroups given(fmt::format("ovz-test-cgpath-{}", ::getpid()));
  bundle b(root.path() / "bundle");
  const std::string path = "/" + given.top + "/pod1/c1";
  b.configure("exec sleep 30", "", fmt::format(R"(, "cgroupsPath": "{}")", path));
  auto c = MUST(oci_container::create(root.path(), "cg1", b.dir));
  MUST(c.start());
  const auto s = MUST(c.state());
  CHECK_THAT(test::read_text(fmt::format("/proc/{}/cgroup", s.pid)), Contains(":" + path + "\n"));
  // The container's limits are on that cgroup, and its beancounters read from it.
  CHECK(given.read("pod1/c1", "pids.max") == "24\n");
  auto v = MUST(ve::open(*s.ve, root.path()));
  CHECK(MUST(v.config()).get("CGROUP_PATH") == path);
  for (const auto& row : MUST(v.beancounters()).stats)
    if (row.resource == ubc_resource::numproc) CHECK(row.held == 1);
  MUST(c.pause());
  CHECK(MUST(c.state()).status == oci_status::paused);
  MUST(c.resume());

  // Another container given the same cgroup is refused, and the first runs on.
  bundle b2(root.path() / "bundle2");
  b2.configure("exec sleep 30", "", fmt::format(R"(, "cgroupsPath": "{}")", path));
  auto second = oci_container::create(root.path(), "cg2", b2.dir);
  REQUIRE_FALSE(second);
  CHECK(second.error().code() == errc::already_exists);
  CHECK_THAT(second.error().message(), Contains("/" + given.top + "/pod1/c1 of cgroupsPath has processes"));
  CHECK_FALSE(oci_container::open(root.path(), "cg2"));
  CHECK(MUST(c.state()).status == oci_status::running);
  CHECK(MUST(c.processes()) == std::vector<pid_t>{s.pid});

  // One that is no cgroup path is refused at create.
  b2.configure("true", "", R"(, "cgroupsPath": "/a/../../b")");
  auto bad = oci_container::create(root.path(), "cg3", b2.dir);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == errc::bad_config);
  CHECK_THAT(bad.error().message(), Contains("linux.cgroupsPath \"/a/../../b\""));

  // Delete removes the container's cgroup and leaves its giver's parents.
  MUST(c.kill(SIGKILL, true));
  REQUIRE(wait_stopped(c));
  MUST(c.destroy());
  for (const auto& at : given.places()) {
    CHECK_FALSE(fs::exists(at / "pod1/c1"));
    CHECK(fs::is_directory(at / "pod1"));
  }
  CHECK(test::leftovers(root).empty());
}
