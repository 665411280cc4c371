// OCI containers run as VEs: ovz::oci_container through its lifecycle as conmon and
// containerd's shim drive it (create leaves the process waiting, start lets it run, state,
// kill, delete), what config.json sets holding inside, refusals leaving nothing, and the
// ovz-oci program's command line. Each test's state root is its own.

#include "support/program.hpp"
#include "support/runtime_cgroups.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"
#include "support/userns_root.hpp"

#include "kernel/fd_passing.hpp"
#include "kernel/seccomp_notify.hpp"

#include <ovz/namespaces.hpp>
#include <ovz/oci_container.hpp>
#include <ovz/ve.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>

using namespace ovz;
using Catch::Contains;

namespace {

namespace fs = std::filesystem;

// A bundle whose root holds the host's static busybox and its applets.
struct bundle {
  explicit bundle(const fs::path& dir) : dir(dir) {
    test::make_busybox_root(dir / "rootfs", {"sh", "ls", "cat", "echo", "sleep", "id", "hostname",
                                             "touch", "grep", "wc", "seq", "ps", "true"});
  }
  // config.json for `script` run by sh as `user`, with `process_extra` and `linux_extra`
  // members added.
  void configure(const std::string& script, const std::string& process_extra = "",
                 const std::string& linux_extra = "",
                 const std::string& user = R"({"uid": 0, "gid": 0})") const {
    std::string quoted;
    for (char c : script) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    std::ofstream(dir / "config.json") << fmt::format(R"({{
  "ociVersion": "1.0.2",
  "process": {{"terminal": false, "user": {},
    "args": ["/bin/sh", "-c", "{}"], "env": ["PATH=/bin"], "cwd": "/"{}}},
  "root": {{"path": "rootfs", "readonly": true}},
  "hostname": "oci-test",
  "mounts": [
    {{"destination": "/proc", "type": "proc", "source": "proc"}},
    {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}},
    {{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["newinstance", "ptmxmode=0666"]}},
    {{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}},
    {{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}}
  ],
  "annotations": {{"org.openvz.ubc.numproc": "24:24", "io.container.manager": "test"}},
  "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}},
                            {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/kcore", "/sys/firmware"], "readonlyPaths": ["/proc/sys"],
    "resources": {{"memory": {{"limit": 134217728}}}}{}}}
}})",
                                                      user, quoted, process_extra, linux_extra);
  }
  fs::path dir;
};

struct pipe_pair {
  pipe_pair() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    r.reset(fds[0]);
    w.reset(fds[1]);
  }
  // Whatever arrives until every writer has closed it.
  std::string drain() {
    w.reset();
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(r.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  bool has_data(int ms) {
    pollfd p{r.get(), POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }
  unique_fd r, w;
};

bool wait_stopped(const oci_container& c) {
  for (int i = 0; i < 500; ++i) {
    auto s = c.state();
    if (s && s->status == oci_status::stopped) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// What the container `id` of `bundle` writes on its stdout, run from create to its end, and
// deleted then.
std::string output_of(const test::temp_root& root, const std::string& id, const fs::path& bundle) {
  pipe_pair out;
  oci_io io;
  io.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), id, bundle, io));
  MUST(c.start());
  std::string said = out.drain();
  REQUIRE(wait_stopped(c));
  MUST(c.destroy());
  return said;
}

}  // namespace

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

namespace {

// The bundle's config.json with `hooks` (a JSON object) added.
void add_hooks(const bundle& b, const std::string& hooks) {
  std::string text = test::read_text(b.dir / "config.json");
  const std::string version = R"("ociVersion": "1.0.2",)";
  text.replace(text.find(version), version.size(), version + "\n  \"hooks\": " + hooks + ",");
  std::ofstream(b.dir / "config.json") << text;
}

}  // namespace

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
  add_hooks(b, fmt::format(R"({{"createRuntime": [{}], "prestart": [{}], "poststart": [{}],
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
    add_hooks(b, fmt::format(R"({{"prestart": [{}]}})", hook));
    auto refused = oci_container::create(root.path(), "hook-2", b.dir);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == errc::child_failed);
    CHECK_THAT(refused.error().message(), Contains(said));
    CHECK(test::leftovers(root).empty());
    CHECK(test::cgroup_parents(root).empty());
  }
  // A failing startContainer hook fails start and stops the container.
  b.configure("echo ran");
  add_hooks(b, R"({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 5"]}]})");
  auto stopped = MUST(oci_container::create(root.path(), "hook-3", b.dir));
  auto failed = stopped.start();
  REQUIRE_FALSE(failed);
  CHECK_THAT(failed.error().message(), Contains("hooks.startContainer[0] (/bin/sh) exited with status 5"));
  REQUIRE(wait_stopped(stopped));
  MUST(stopped.destroy());
  // A failing createContainer hook fails create, which leaves nothing.
  add_hooks(b, R"({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 6"]}]})");
  auto refused = oci_container::create(root.path(), "hook-4", b.dir);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == errc::child_failed);
  CHECK_THAT(refused.error().message(),
             Contains("hooks.createContainer[0] (/bin/sh) exited with status 6"));
  CHECK(test::leftovers(root).empty());
  CHECK(test::cgroup_parents(root).empty());
}

TEST_CASE("linux.resources.unified is written to a v2 cgroup, and refused on v1", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("exec sleep 30", "", R"(, "resources": {"unified": {"memory.high": "104857600"}})");
  // The linux object's own resources come first in the text; the later member would be lost.
  {
    std::string text = test::read_text(b.dir / "config.json");
    const std::string own = R"("resources": {"memory": {"limit": 134217728}},)";
    REQUIRE(text.find(own) != std::string::npos);
    text.erase(text.find(own), own.size());
    std::ofstream(b.dir / "config.json") << text;
  }
  const bool v2 = fs::exists("/sys/fs/cgroup/cgroup.controllers");
  auto c = oci_container::create(root.path(), "uni-1", b.dir);
  if (!v2) {
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == errc::unsupported);
    CHECK_THAT(c.error().message(), Contains("memory.high"));
    CHECK(test::leftovers(root).empty());
    CHECK(test::cgroup_parents(root).empty());
    return;
  }
  REQUIRE(c);
  const auto pid = MUST(c->state()).pid;
  const auto line = test::read_text(fmt::format("/proc/{}/cgroup", pid));
  const auto dir = fs::path("/sys/fs/cgroup") / line.substr(3, line.find('\n') - 3).substr(1);
  CHECK(test::read_text(dir / "memory.high") == "104857600\n");
  oci_resources more;
  more.unified = {{"memory.high", "209715200"}};
  MUST(c->start());
  MUST(c->update(more));
  CHECK(test::read_text(dir / "memory.high") == "209715200\n");
  more.unified = {{"memory.no-such-file", "1"}};
  auto refused = c->update(more);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().sys_errno() == ENOENT);
  MUST(c->destroy(true));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("what config.json sets holds inside an OCI container", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure(
      "touch /x 2>/dev/null && echo root rw || echo root ro; "
      "echo kcore $(cat /proc/kcore | wc -c); echo firmware $(ls /sys/firmware | wc -l); "
      "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys rw || echo sys ro; "
      "echo uid $(id -u) gid $(id -g) groups $(id -G); "
      "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs)' /proc/self/status; "
      "echo home $HOME cwd $(pwd); "
      "grep 'Max open files' /proc/self/limits; ls /dev/null /dev/zero /dev/tty; "
      "echo ping $(cat /proc/sys/net/ipv4/ping_group_range) shmmni $(cat /proc/sys/kernel/shmmni); "
      "echo net $(readlink /proc/self/ns/net); "
      "echo cgroups outside $(grep -cv ':/$' /proc/self/cgroup)",
      R"(, "noNewPrivileges": true,
         "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_KILL"],
                          "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"],
                          "ambient": ["CAP_KILL"]},
         "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 600}])",
      R"(, "sysctl": {"net.ipv4.ping_group_range": "0 0", "kernel.shmmni": "123"})",
      R"({"uid": 1000, "gid": 1000, "additionalGids": [1000, 27]})");
  // A network namespace made beforehand, as Podman's netavark makes one, which it joins.
  spawn_spec holder;
  holder.argv = {"/bin/sleep", "60"};
  holder.namespaces.add(ns_type::net);
  holder.detach = true;
  auto netns = MUST(spawn(holder));
  const auto netns_inode = MUST(MUST(ns_handle::open(netns.pid(), ns_type::net)).inode());
  {
    std::string text = test::read_text(b.dir / "config.json");
    const std::string own = R"({"type": "network"})";
    text.replace(text.find(own), own.size(),
                 fmt::format(R"({{"type": "network", "path": "/proc/{}/ns/net"}})", netns.pid()));
    // A working directory the image lacks is made, as runc makes it.
    const std::string cwd = R"("cwd": "/")";
    text.replace(text.find(cwd), cwd.size(), R"("cwd": "/work/here")");
    std::ofstream(b.dir / "config.json") << text;
  }
  // HOME comes from the user's entry, found through the image's own (relative) symlink.
  fs::create_directories(b.dir / "rootfs/etc");
  fs::create_directories(b.dir / "rootfs/usr/share");
  std::ofstream(b.dir / "rootfs/usr/share/passwd") << "root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n";
  fs::create_symlink("../usr/share/passwd", b.dir / "rootfs/etc/passwd");
  pipe_pair out;
  oci_io opts;
  opts.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), "conf-1", b.dir, opts));
  MUST(c.start());
  const std::string said = out.drain();
  INFO(said);
  CHECK_THAT(said, Contains("root ro\n"));
  CHECK_THAT(said, Contains("kcore 0\n"));
  CHECK_THAT(said, Contains("firmware 0\n"));
  CHECK_THAT(said, Contains("sys ro\n"));
  CHECK_THAT(said, Contains("uid 1000 gid 1000 groups 1000 27\n"));
  CHECK_THAT(said, Contains("CapBnd:\t0000000000000021\n"));  // CHOWN (0) and KILL (5)
  // KILL alone in the other sets, kept through the change of user by the ambient set.
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"})
    CHECK_THAT(said, Contains(fmt::format("{}:\t0000000000000020\n", set)));
  CHECK_THAT(said, Contains("home /home/u cwd /work/here\n"));
  CHECK_THAT(said, Contains("NoNewPrivs:\t1\n"));
  CHECK_THAT(said, Catch::Matches("[\\s\\S]*Max open files +512 +600 +files[\\s\\S]*"));
  CHECK_THAT(said, Contains("/dev/null\n/dev/tty\n/dev/zero\n"));
  CHECK_THAT(said, Contains("ping 0 0 shmmni 123\n"));
  CHECK_THAT(said, Contains(fmt::format("net net:[{}]\n", netns_inode)));
  // A cgroup namespace of its own though config.json asks for none: its cgroups are its roots.
  CHECK_THAT(said, Contains("cgroups outside 0\n"));
  MUST(netns.signal(SIGKILL));
  REQUIRE(wait_stopped(c));
  MUST(c.destroy());
  CHECK(test::leftovers(root).empty());
}

// config.json's text with `from` (which it has) replaced by `to`.
void rewrite(const bundle& b, const std::string& from, const std::string& to) {
  std::string text = test::read_text(b.dir / "config.json");
  REQUIRE(text.find(from) != std::string::npos);
  text.replace(text.find(from), from.size(), to);
  std::ofstream(b.dir / "config.json") << text;
}

// The container `id` of `bundle` with `in` and `out` as its stdin and stdout, its process
// checked to be host uid `uid`.
oci_container created_as(const test::temp_root& root, const std::string& id, const fs::path& bundle,
                         const pipe_pair& in, const pipe_pair& out, uid_t uid) {
  oci_io opts;
  opts.stdin_fd = in.r.get();
  opts.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), id, bundle, opts));
  CHECK_THAT(test::read_text(fmt::format("/proc/{}/status", MUST(c.state()).pid)),
             Contains(fmt::format("Uid:\t{0}\t{0}\t{0}\t{0}\n", uid)));
  return c;
}

TEST_CASE("an OCI container in a user namespace is root of a host range, its devices made by "
          "the host", "[oci][userns]") {
  test::require_root();
  test::temp_root root;
  // The bundles are outside the state root, as a caller's are.
  test::temp_dir bundles;
  const std::string maps = R"(, "uidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}])";
  const std::string foo = R"(, "devices": [{"path": "/dev/foo", "type": "c", "major": 1, "minor": 3,
    "fileMode": 432, "uid": 10, "gid": 11}])";
  bundle b(bundles.path / "bundle");
  b.configure("echo uid $(id -u); cat /proc/self/uid_map; set -- $(ls -ln /dev/foo); "
              "echo foo $1 $3 $4 $5 $6; echo x > /dev/foo && echo foo opens; "
              "set -- $(ls -lnd /bin); echo bin owner $3; read line",
              "", maps + foo);
  rewrite(b, R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
  // Its root walks to the bundle's root, where its own is attached, as host uid 300000.
  fs::permissions(bundles.path, fs::perms(0700));
  auto shut_out = oci_container::create(root.path(), "userns-0", b.dir);
  REQUIRE_FALSE(shut_out);
  CHECK(shut_out.error().code() == errc::invalid_argument);
  CHECK_THAT(shut_out.error().message(), Contains("(host uid 300000), which must reach") &&
                                             Contains("chmod o+x " + bundles.path.string()));
  CHECK(test::leftovers(root).empty());
  fs::permissions(bundles.path, fs::perms(0755));
  pipe_pair in, out;
  // Seen from the host, its root is the first id of its range.
  auto c = created_as(root, "userns-1", b.dir, in, out, 300000);
  MUST(c.start());
  in.w.reset();
  const std::string said = out.drain();
  INFO(said);
  CHECK_THAT(said, Contains("uid 0\n"));
  CHECK_THAT(said, Catch::Matches("[\\s\\S]*\\s+0\\s+300000\\s+65536\\n[\\s\\S]*"));
  // A node no process in a user namespace may make, with the mode and owner config.json gives,
  // and usable: the host made it.
  CHECK_THAT(said, Contains("foo crw-rw---- 10 11 1, 3\n"));
  CHECK_THAT(said, Contains("foo opens\n"));
  // The image's files are the host's root's, whom the range does not hold.
  CHECK_THAT(said, Contains("bin owner 65534\n"));
  REQUIRE(wait_stopped(c));
  MUST(c.destroy());

  // Without a network namespace of its own it may mount no sysfs: it gets the host's /sys.
  bundle host_net(bundles.path / "host-net");
  host_net.configure("ls /sys/kernel >/dev/null && echo sys there", "", maps);
  rewrite(host_net, R"({"type": "network"}, )", "");
  rewrite(host_net, R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
  CHECK(output_of(root, "userns-2", host_net.dir) == "sys there\n");

  // Refused, leaving nothing: no mappings, and a node whose owner the maps leave out.
  bundle unmapped(bundles.path / "unmapped");
  unmapped.configure("true");
  rewrite(unmapped, R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
  auto no_maps = oci_container::create(root.path(), "userns-3", unmapped.dir);
  REQUIRE_FALSE(no_maps);
  CHECK(no_maps.error().code() == errc::bad_config);
  CHECK_THAT(no_maps.error().message(), Contains("needs linux.uidMappings and gidMappings"));
  bundle orphan(bundles.path / "orphan");
  orphan.configure("true", "", R"(, "uidMappings": [{"containerID": 0, "hostID": 300000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 1}])" + foo);
  rewrite(orphan, R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
  auto no_owner = oci_container::create(root.path(), "userns-4", orphan.dir);
  REQUIRE_FALSE(no_owner);
  CHECK_THAT(no_owner.error().message(),
             Contains("the owner 10:11 of ") && Contains("/dev/foo is not mapped"));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("an OCI container joins a user namespace made before it, as a pod's containers do",
          "[oci][userns]") {
  test::require_root();
  test::temp_root root;
  test::temp_dir bundles;
  fs::permissions(bundles.path, fs::perms(0755));
  // The pod's user and network namespaces, held by a process as Podman's infra container
  // holds them; the network namespace is owned by the user namespace.
  spawn_spec holder;
  holder.argv = {"/bin/sleep", "60"};
  holder.namespaces.add(ns_type::user);
  holder.namespaces.add(ns_type::net);
  holder.uid_map = holder.gid_map = {{0, 310000, 65536}};
  holder.detach = true;
  auto pod = MUST(spawn(holder));
  const auto userns = fmt::format("/proc/{}/ns/user", pod.pid());
  const auto netns = fmt::format("/proc/{}/ns/net", pod.pid());
  const std::string foo = R"(, "devices": [{"path": "/dev/foo", "type": "c", "major": 1, "minor": 3,
    "fileMode": 438, "uid": 10, "gid": 11}])";
  auto joining = [&](const std::string& name, const std::string& script, const std::string& user_path,
                     const std::string& linux_extra) {
    bundle b(bundles.path / name);
    b.configure(script, "", linux_extra);
    rewrite(b, R"({"type": "network"})",
            fmt::format(R"({{"type": "network", "path": "{}"}})", netns));
    rewrite(b, R"({"type": "mount"})",
            fmt::format(R"({{"type": "mount"}}, {{"type": "user", "path": "{}"}})", user_path));
    return b;
  };
  auto b = joining("joins",
                   "echo uid $(id -u); cat /proc/self/uid_map; set -- $(ls -ln /dev/foo); "
                   "echo foo $3 $4; echo x > /dev/foo && echo foo opens; "
                   "echo user $(readlink /proc/self/ns/user) net $(readlink /proc/self/ns/net); "
                   "echo hostname $(hostname); read line",
                   userns, foo);
  pipe_pair in, out;
  auto c = created_as(root, "joins-1", b.dir, in, out, 310000);
  // Another process started in it is root of the same namespace.
  oci_process p;
  p.args = {"/bin/sh", "-c", "id -u; readlink /proc/self/ns/user"};
  p.env = {"PATH=/bin"};
  pipe_pair exec_out;
  oci_io exec_io;
  exec_io.stdout_fd = exec_out.w.get();
  CHECK(MUST(MUST(c.exec(p, exec_io, false)).wait()) == 0);
  exec_io.stdout_fd = -1;
  exec_out.w.reset();
  CHECK(exec_out.drain() == fmt::format("0\n{}\n", fs::read_symlink(userns).string()));
  MUST(c.start());
  in.w.reset();
  const std::string said = out.drain();
  INFO(said);
  CHECK_THAT(said, Contains("uid 0\n"));
  CHECK_THAT(said, Catch::Matches("[\\s\\S]*\\s+0\\s+310000\\s+65536\\n[\\s\\S]*"));
  // Its device node is made by the host, which the joined namespace's root may not do.
  CHECK_THAT(said, Contains("foo 10 11\nfoo opens\n"));
  CHECK_THAT(said, Contains(fmt::format("user {} net {}\n", fs::read_symlink(userns).string(),
                                        fs::read_symlink(netns).string())));
  // Its own namespaces are owned by the joined user namespace, whose root named its UTS
  // namespace (and mounted its /proc).
  CHECK_THAT(said, Contains("hostname oci-test\n"));
  REQUIRE(wait_stopped(c));
  MUST(c.destroy());

  // Refused, leaving nothing: maps config.json gives that are not the namespace's, and a file
  // that is no user namespace.
  auto other_maps = joining("other-maps", "true", userns,
                            R"(, "uidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}])");
  auto differ = oci_container::create(root.path(), "joins-2", other_maps.dir);
  REQUIRE_FALSE(differ);
  CHECK(differ.error().code() == errc::bad_config);
  CHECK_THAT(differ.error().message(), Contains("differ from the maps of the user namespace " + userns));
  auto not_user = joining("not-user", "true", netns, "");
  auto refused = oci_container::create(root.path(), "joins-3", not_user.dir);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == errc::invalid_argument);
  CHECK_THAT(refused.error().message(), Contains(netns) && Contains("not a user namespace"));
  CHECK(test::leftovers(root).empty());
  MUST(pod.signal(SIGKILL));
}

TEST_CASE("a bind mount is idmapped with the container's maps or its own", "[oci][userns]") {
  test::require_root();
  test::temp_root root;
  // A filesystem with idmapped mounts (an ext4 made for the test where /tmp has none), which
  // the container's root may walk.
  test::userns_root place;
  const fs::path data = place.path() / "data";
  fs::create_directories(data);
  std::ofstream(data / "f") << "f\n";
  std::ofstream(data / "g") << "g\n";
  REQUIRE(::chown((data / "g").c_str(), 1000, 1000) == 0);
  const std::string maps = R"(, "uidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 65536}])";
  const std::string tmp = R"({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})";
  auto with_mounts = [&](const std::string& name, const std::string& script,
                         const std::string& linux_extra, const std::string& mounts) {
    bundle b(place.path() / name);
    // The mount points: the image is the host root's, on which the container's may make none.
    for (const char* dir : {"data", "raw", "mine", "t"}) fs::create_directories(b.dir / "rootfs" / dir);
    b.configure(script, "", linux_extra);
    rewrite(b, tmp, tmp + ", " + mounts);
    if (!linux_extra.empty()) rewrite(b, R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
    return b;
  };
  const std::string one_id = R"([{"containerID": 1000, "hostID": 300000, "size": 1}])";
  auto b = with_mounts(
      "binds",
      "for d in data raw mine; do set -- $(ls -ln /$d/f); f=\"$3 $4\"; set -- $(ls -ln /$d/g); "
      "echo $d f $f g $3 $4; done; touch /data/new && echo data writable; "
      "touch /raw/new2 2>/dev/null || echo raw refused",
      maps,
      fmt::format(R"({{"destination": "/data", "type": "bind", "source": "{0}", "options": ["bind", "idmap"]}},
    {{"destination": "/raw", "type": "bind", "source": "{0}", "options": ["bind"]}},
    {{"destination": "/mine", "type": "bind", "source": "{0}", "options": ["bind"],
      "uidMappings": {1}, "gidMappings": {1}}})",
                  data.string(), one_id));
  const std::string said = output_of(root, "idmap-1", b.dir);
  INFO(said);
  // With the container's maps its root owns what the host's root owns, and the rest keep
  // their ids; a plain bind shows ids its namespace does not map as nobody's.
  CHECK_THAT(said, Contains("data f 0 0 g 1000 1000\n"));
  CHECK_THAT(said, Contains("raw f 65534 65534 g 65534 65534\n"));
  // The mount's own maps: the filesystem's 1000 is host uid 300000, the container's root.
  CHECK_THAT(said, Contains("mine f 65534 65534 g 0 0\n"));
  CHECK_THAT(said, Contains("data writable\nraw refused\n"));
  // Written through the idmapped mount, the file is the host root's on disk.
  struct stat st {};
  REQUIRE(::stat((data / "new").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
  CHECK(st.st_gid == 0);
  CHECK_FALSE(fs::exists(data / "new2"));

  // Refused, leaving nothing: idmap without maps in a container with no user namespace, on a
  // mount that is no bind, and on a filesystem that cannot be idmapped.
  auto refused = [&](const std::string& name, const std::string& linux_extra,
                     const std::string& mounts, errc code, const std::string& says) {
    auto r = oci_container::create(root.path(), name,
                                   with_mounts(name, "true", linux_extra, mounts).dir);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == code);
    CHECK_THAT(r.error().message(), Contains(says));
  };
  refused("idmap-2", "",
          fmt::format(R"({{"destination": "/data", "type": "bind", "source": "{}", "options": ["idmap"]}})",
                      data.string()),
          errc::bad_config, "mounts[5]: idmap without uidMappings and gidMappings takes the container's");
  refused("idmap-3", maps, R"({"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]})",
          errc::bad_config, "mounts[5]: only a bind mount can be idmapped, not tmpfs");
  test::scratch_fs ramfs("ramfs");
  refused("idmap-4", maps,
          fmt::format(R"({{"destination": "/data", "type": "bind", "source": "{}", "options": ["rbind", "ridmap"]}})",
                      ramfs.path().string()),
          errc::unsupported, "cannot be idmapped on this kernel");
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("bind mounts are recursive only with rbind, and keep their flags when writable",
          "[oci]") {
  test::require_root();
  test::temp_root root;
  const auto vol = root.path() / "vol";
  fs::create_directories(vol);
  std::ofstream(vol / "run.sh") << "#!/bin/sh\necho ran\n";
  fs::permissions(vol / "run.sh", fs::perms(0755));
  bundle b(root.path() / "bundle");
  b.configure("echo flat $(ls /flat/fs/cgroup | wc -l) deep $(ls /deep/fs/cgroup | wc -l); "
              "/noexec/run.sh 2>/dev/null || echo noexec refused; /exec/run.sh; "
              "touch /noexec/w && echo noexec rw");
  const std::string mounts = fmt::format(
      R"({{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}},
    {{"destination": "/flat", "type": "bind", "source": "/sys", "options": ["bind", "ro"]}},
    {{"destination": "/deep", "type": "bind", "source": "/sys", "options": ["rbind", "ro"]}},
    {{"destination": "/noexec", "type": "bind", "source": "{0}", "options": ["rbind", "rw", "noexec", "nosuid"]}},
    {{"destination": "/exec", "type": "bind", "source": "{0}", "options": ["rbind", "ro"]}})",
      vol.string());
  rewrite(b, R"({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})", mounts);
  const std::string said = output_of(root, "binds-1", b.dir);
  INFO(said);
  // A bind shows the directory alone; rbind what is mounted below it too (the cgroup mounts).
  CHECK_THAT(said, Catch::StartsWith("flat 0 deep "));
  CHECK_THAT(said, !Contains("deep 0\n"));
  CHECK_THAT(said, Contains("noexec refused\nran\nnoexec rw\n"));
  CHECK(fs::exists(vol / "w"));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("an OCI container's numproc annotation contains a fork bomb", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  // The bomb's shell ends at its first refused fork; its sleeps stay, and init (the last
  // sleep, which replaced the shell) with them.
  b.configure("(for i in $(seq 60); do sleep 30 & done) 2>/dev/null & exec sleep 30");
  auto c = MUST(oci_container::create(root.path(), "bomb-1", b.dir));
  MUST(c.start());
  auto s = MUST(c.state());
  auto v = MUST(ve::open(*s.ve, root.path()));
  ubc_stat numproc{};
  for (int i = 0; i < 500 && numproc.failcnt == 0; ++i) {
    for (const auto& row : MUST(v.beancounters()).stats)
      if (row.resource == ubc_resource::numproc) numproc = row;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(numproc.limit == 24);
  CHECK(numproc.failcnt > 0);
  CHECK(numproc.maxheld <= 24);
  CHECK(MUST(c.processes()).size() >= 20);
  CHECK(MUST(c.state()).status == oci_status::running);
  MUST(c.kill(SIGKILL, true));
  REQUIRE(wait_stopped(c));
  MUST(c.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("create refuses what it cannot run and leaves nothing behind", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("sleep 30");
  auto first = MUST(oci_container::create(root.path(), "kept", b.dir));
  const auto conf_dir = root.path() / "conf";
  const auto files_before = std::distance(fs::directory_iterator(conf_dir), {});

  auto bad_id = oci_container::create(root.path(), "../x", b.dir);
  REQUIRE_FALSE(bad_id);
  CHECK(bad_id.error().code() == errc::invalid_argument);

  auto taken = oci_container::create(root.path(), "kept", b.dir);
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code() == errc::already_exists);
  CHECK_THAT(taken.error().message(), Contains("container with given ID already exists"));

  bundle missing(root.path() / "missing");
  std::ofstream(missing.dir / "config.json") << R"({"ociVersion": "1.0.2",
    "process": {"args": ["/bin/no-such-program"], "cwd": "/"}, "root": {"path": "rootfs"},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}})";
  auto not_there = oci_container::create(root.path(), "missing", missing.dir);
  REQUIRE_FALSE(not_there);
  CHECK(not_there.error().sys_errno() == ENOENT);
  CHECK_THAT(not_there.error().message(), Contains("execute /bin/no-such-program"));

  bundle tty(root.path() / "tty");
  tty.configure("true", R"(, "terminal": true)");
  std::string text = test::read_text(tty.dir / "config.json");
  text.replace(text.find("\"terminal\": false, "), 19, "");
  std::ofstream(tty.dir / "config.json") << text;
  auto no_socket = oci_container::create(root.path(), "tty", tty.dir);
  REQUIRE_FALSE(no_socket);
  CHECK(no_socket.error().code() == errc::invalid_argument);

  bundle host_wide(root.path() / "host-wide");
  host_wide.configure("true", "", R"(, "sysctl": {"kernel.panic": "1"})");
  auto sysctl = oci_container::create(root.path(), "host-wide", host_wide.dir);
  REQUIRE_FALSE(sysctl);
  CHECK_THAT(sysctl.error().message(), Contains("sysctl kernel.panic is the whole host's"));

  bundle traced(root.path() / "traced");
  traced.configure("true", "",
                   R"(, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                          {"names": ["ptrace"], "action": "SCMP_ACT_TRACE"}]})");
  auto seccomp = oci_container::create(root.path(), "traced", traced.dir);
  REQUIRE_FALSE(seccomp);
  CHECK(seccomp.error().code() == errc::unsupported);
  CHECK_THAT(seccomp.error().message(), Contains("SCMP_ACT_TRACE is not supported"));

  // Nothing of the refused ones: no record, no CTID.conf, no cgroup; the first as it was.
  CHECK(std::distance(fs::directory_iterator(conf_dir), {}) == files_before);
  CHECK(std::distance(fs::directory_iterator(root.path() / "oci"), {}) == 1);
  CHECK(MUST(first.state()).status == oci_status::created);
  MUST(first.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a hostile image's symbolic links lead nowhere outside its root", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  const auto outside = root.path() / "outside";
  fs::create_directories(outside);
  // /mnt a link to a host directory, /escape one that climbs: the mounts below would make a
  // file and directories there if their targets were looked up on the host.
  fs::create_symlink(outside, b.dir / "rootfs/mnt");
  fs::create_symlink("../../../../../../../.." + outside.string(), b.dir / "rootfs/escape");
  const auto hosts = root.path() / "hosts";
  std::ofstream(hosts) << "127.0.0.1 localhost\n";
  b.configure("true");
  for (const auto& [dest, type, source] :
       {std::tuple{"/mnt/hosts", "bind", hosts.string()}, {"/escape/dir", "tmpfs", "tmpfs"},
        {"/mnt/sub/dir", "tmpfs", "tmpfs"}}) {
    std::string text = test::read_text(b.dir / "config.json");
    const std::string mounts = "\"mounts\": [";
    text.insert(text.find(mounts) + mounts.size(),
                fmt::format(R"({{"destination": "{}", "type": "{}", "source": "{}"}},)", dest,
                            type, source));
    std::ofstream(b.dir / "config.json") << text;
    auto c = oci_container::create(root.path(), "hostile", b.dir);
    INFO(dest);
    if (c) MUST(c->destroy(true));
    CHECK(fs::is_empty(outside));
  }
  CHECK(test::leftovers(root).empty());
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

TEST_CASE("an OCI container's seccomp profile refuses calls by name and by argument", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  fs::create_symlink("busybox", b.dir / "rootfs/bin/chmod");
  fs::create_symlink("busybox", b.dir / "rootfs/bin/mkdir");
  // mkdir refused whatever its arguments; chmod only to mode 0777 (fchmodat's third argument,
  // chmod's second); a name this libseccomp does not know is left out.
  b.configure(
      "mkdir /tmp/d 2>/dev/null && echo mkdir ok || echo mkdir refused; touch /tmp/f; "
      "chmod 644 /tmp/f && echo 644 ok; chmod 777 /tmp/f 2>/dev/null || echo 777 refused; "
      "grep ^Seccomp: /proc/self/status",
      "",
      R"(, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
              {"names": ["mkdir", "mkdirat", "no_such_call_yet"], "action": "SCMP_ACT_ERRNO"},
              {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
               "args": [{"index": 2, "value": 511, "op": "SCMP_CMP_EQ"}]},
              {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
               "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]}]})");
  CHECK(output_of(root, "s1", b.dir) == "mkdir refused\n644 ok\n777 refused\nSeccomp:\t2\n");
  CHECK(test::leftovers(root).empty());
}

namespace {

// A seccomp agent, what linux.seccomp.listenerPath names: a listening socket, and the
// messages and listeners that arrive there.
struct seccomp_agent {
  explicit seccomp_agent(const fs::path& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path.string().size() < sizeof a.sun_path);
    std::strcpy(a.sun_path, path.c_str());
    sock.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(::bind(sock.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(sock.get(), 4) == 0);
  }
  // The next process's state message, and its listener.
  std::pair<std::string, unique_fd> next() const {
    pollfd p{sock.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    unique_fd c(::accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC));
    REQUIRE(c);
    auto m = MUST(detail::receive_with_fds(c.get(), 4096, 1, "the agent's message"));
    REQUIRE(m);
    REQUIRE(m->fds.size() == 1);
    return {m->bytes, std::move(m->fds.front())};
  }
  unique_fd sock;
};

// Answers the next call `listener` hands over: `error`, or with 0 the kernel runs it.
std::string answer_next(int listener, int error) {
  pollfd p{listener, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  auto notice = MUST(detail::receive_notice(listener));
  REQUIRE(notice);
  if (error) {
    detail::answer(listener, notice->id, error);
  } else {
    detail::let_kernel_run(listener, notice->id);
  }
  return notice->name;
}

}  // namespace

TEST_CASE("an OCI container's SCMP_ACT_NOTIFY calls go to the agent at listenerPath", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  fs::create_symlink("busybox", b.dir / "rootfs/bin/mkdir");
  const auto agent_path = root.path() / "agent";
  auto seccomp = [&](const std::string& rules) {
    return fmt::format(R"(, "seccomp": {{"defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "{}", "listenerMetadata": "meta \"1\"", "syscalls": [{}]}})",
                       agent_path.string(), rules);
  };
  const std::string notify_mkdir = R"({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"})";
  b.configure("mkdir /tmp/a 2>/dev/null && echo made a || echo refused a; read x; "
              "mkdir /tmp/b && echo made b; ls /tmp",
              "", seccomp(notify_mkdir));

  // No agent listening: refused before anything is made.
  auto alone = oci_container::create(root.path(), "n0", b.dir);
  REQUIRE_FALSE(alone);
  CHECK(alone.error().code() == std::error_code(ENOENT, std::system_category()));
  CHECK_THAT(alone.error().message(),
             Contains("connect to linux.seccomp.listenerPath " + agent_path.string()));
  CHECK(test::leftovers(root).empty());

  seccomp_agent agent(agent_path);
  pipe_pair in, out;
  oci_io io;
  io.stdin_fd = in.r.get();
  io.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), "n1", b.dir, io));
  const pid_t pid = MUST(c.state()).pid;
  // The runtime-spec's container process state, with the listener, while it is created.
  auto [said, listener] = agent.next();
  CHECK_THAT(said, Contains(R"("ociVersion": "1.1.0", "fds": ["seccompFd"])"));
  CHECK_THAT(said, Contains(fmt::format(R"("pid": {}, "metadata": "meta \"1\"")", pid)));
  CHECK_THAT(said, Contains(R"("status": "creating")") && Contains(R"("id": "n1")"));
  MUST(c.start());
  // Its mkdir waits for the agent's answer: refused, then let through.
  CHECK(answer_next(listener.get(), EACCES).starts_with("mkdir"));
  REQUIRE(::write(in.w.get(), "go\n", 3) == 3);
  CHECK(answer_next(listener.get(), 0).starts_with("mkdir"));
  in.w.reset();
  REQUIRE(wait_stopped(c));
  CHECK(out.drain() == "refused a\nmade b\nb\n");
  MUST(c.destroy());

  // A process exec starts in it has its own listener, sent the same way.
  b.configure("exec sleep 30", "", seccomp(notify_mkdir));
  auto running = MUST(oci_container::create(root.path(), "n2", b.dir));
  (void)agent.next();
  MUST(running.start());
  oci_process p;
  p.args = {"/bin/mkdir", "/tmp/x"};
  p.cwd = "/";
  pipe_pair err;
  oci_io exec_io;
  exec_io.stderr_fd = err.w.get();
  auto waiter = MUST(running.exec(p, exec_io, false));
  auto [exec_said, exec_listener] = agent.next();
  CHECK_THAT(exec_said, Contains(R"("status": "running")"));
  CHECK(answer_next(exec_listener.get(), EPERM).starts_with("mkdir"));
  CHECK(MUST(waiter.wait()) == 1);
  CHECK_THAT(err.drain(), Contains("Operation not permitted"));
  MUST(running.destroy(true));

  // What cannot work is refused, naming it.
  for (const auto& [rules, expect] :
       {std::pair<std::string, std::string>{
            R"({"names": ["sendmsg"], "action": "SCMP_ACT_NOTIFY"})",
            "SCMP_ACT_NOTIFY cannot take sendmsg"},
        {R"({"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY", "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]})",
         "SCMP_ACT_NOTIFY with conditions on arguments is not supported"}}) {
    b.configure("true", "", seccomp(rules));
    auto refused = oci_container::create(root.path(), "n3", b.dir);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message(), Contains(expect));
  }
  b.configure("true", "", R"(, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  auto nowhere = oci_container::create(root.path(), "n4", b.dir);
  REQUIRE_FALSE(nowhere);
  CHECK(nowhere.error().code() == errc::bad_config);
  CHECK_THAT(nowhere.error().message(), Contains("SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"));
  b.configure("true", "", fmt::format(R"(, "seccomp": {{"defaultAction": "SCMP_ACT_NOTIFY",
      "listenerPath": "{}"}})", agent_path.string()));
  auto every_call = oci_container::create(root.path(), "n5", b.dir);
  REQUIRE_FALSE(every_call);
  CHECK_THAT(every_call.error().message(),
             Contains("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"));
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

TEST_CASE("ovz-oci speaks runc's command line", "[oci][ovz-oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("sleep 30");
  const std::string r = root.path().string();
  auto oci = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {OVZ_OCI_PATH, "--root", r});
    return test::run_program(std::move(args));
  };
  // The container keeps create's stdio: a file here, as conmon's pipes are its own.
  const auto pid_file = root.path() / "pidfile";
  auto made = test::run_program(
      {"/bin/sh", "-c",
       fmt::format("exec {} --root {} create --bundle={} --pid-file {} cli-1 >{} 2>&1",
                   OVZ_OCI_PATH, r, b.dir.string(), pid_file.string(),
                   (root.path() / "create.out").string())});
  INFO(test::read_text(root.path() / "create.out"));
  REQUIRE(made.exit_code == 0);
  const std::string pid = test::read_text(pid_file);
  CHECK(pid.find_first_not_of("0123456789") == std::string::npos);

  auto state = oci({"state", "cli-1"});
  CHECK(state.exit_code == 0);
  CHECK_THAT(state.out, Contains("\"ociVersion\": \"1.1.0\","));
  CHECK_THAT(state.out, Contains("\"status\": \"created\""));
  CHECK_THAT(state.out, Contains(fmt::format("\"pid\": {},", pid)));
  CHECK_THAT(state.out, Contains(fmt::format("\"rootfs\": \"{}/rootfs\",", b.dir.string())));
  CHECK_THAT(state.out, Contains("\"org.openvz.ubc.numproc\": \"24:24\""));
  CHECK(oci({"start", "cli-1"}).exit_code == 0);
  auto ps = oci({"ps", "--format", "json", "cli-1"});
  CHECK(ps.exit_code == 0);
  CHECK(ps.out == fmt::format("[{}]\n", pid));
  auto in = oci({"exec", "cli-1", "/bin/sh", "-c", "echo from $(hostname); exit 4"});
  CHECK(in.exit_code == 4);
  CHECK(in.out == "from oci-test\n");
  const auto process_file = root.path() / "process.json";
  std::ofstream(process_file) << R"({"args": ["/bin/sleep", "20"], "cwd": "/", "env": ["PATH=/bin"]})";
  const auto exec_pid_file = root.path() / "exec.pid";
  // Detached, the process keeps exec's stdio: a file here too.
  auto detached = test::run_program(
      {"/bin/sh", "-c",
       fmt::format("exec {} --root {} exec --process {} --detach --pid-file {} cli-1 >{} 2>&1",
                   OVZ_OCI_PATH, r, process_file.string(), exec_pid_file.string(),
                   (root.path() / "exec.out").string())});
  CHECK(detached.exit_code == 0);
  CHECK(test::read_text(root.path() / "exec.out").empty());
  const std::string exec_pid = test::read_text(exec_pid_file);
  CHECK_THAT(oci({"ps", "--format", "json", "cli-1"}).out, Contains(exec_pid));
  CHECK(oci({"kill", "cli-1", "KILL"}).exit_code == 0);
  for (int i = 0; i < 500 && oci({"state", "cli-1"}).out.find("stopped") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_THAT(oci({"state", "cli-1"}).out, Contains("\"pid\": 0,"));
  CHECK(oci({"delete", "cli-1"}).exit_code == 0);

  auto unknown = oci({"state", "cli-1"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.empty());
  CHECK_THAT(unknown.err, Contains("container does not exist"));
  CHECK(oci({"delete", "--force", "cli-1"}).exit_code == 0);
  CHECK(oci({"kill", "cli-1", "9"}).exit_code == 1);
  const auto log = root.path() / "oci-log";
  auto logged = oci({"--log", log.string(), "--log-format=json", "start", "cli-1"});
  CHECK(logged.exit_code == 1);
  const std::string line = test::read_text(log);
  CHECK_THAT(line, Catch::Matches(R"(\{"level":"error","msg":"container does not exist: cli-1","time":"[0-9T:-]+Z"\}\n)"));
  CHECK_THAT(oci({"--version"}).out, Catch::StartsWith("ovz-oci version ") &&
                                         Contains("\nspec: 1.1.0\n"));
  auto features = oci({"features"});
  CHECK(features.exit_code == 0);
  CHECK_THAT(features.out, Contains("\"org.openvz.ubc.numproc\""));
  CHECK_THAT(features.out, Contains("\"CAP_SYS_ADMIN\""));
  CHECK_THAT(features.out, Contains("\"createContainer\", \"startContainer\""));
  CHECK_THAT(features.out, Contains("\"pid\", \"user\", \"uts\""));
  CHECK_THAT(features.out, Contains("\"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\""));
  CHECK_THAT(features.out, Contains("\"SCMP_CMP_MASKED_EQ\"]"));
  CHECK_THAT(features.out, Contains("\"rbind\", \"idmap\", \"ridmap\"]"));
  CHECK_THAT(features.out, Contains("\"mountExtensions\": {\"idmap\": {\"enabled\": true}}"));
  auto bad = oci({"kill", "--nosuch", "x"});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Contains("unknown option --nosuch for kill"));
  CHECK(test::leftovers(root).empty());
}
