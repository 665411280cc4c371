// What an OCI bundle's config.json sets holds inside the container (resources, namespaces,
// mounts, annotations), and what it cannot run is refused leaving nothing behind.

#include "support/bundle.hpp"
#include "support/program.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <ovz/namespaces.hpp>
#include <ovz/oci_container.hpp>
#include <ovz/ve.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>

using namespace ovz;
using Catch::Contains;
using ovz::test::bundle;
using ovz::test::pipe_pair;
using ovz::test::wait_stopped;
using ovz::test::output_of;
namespace fs = std::filesystem;

TEST_CASE("linux.resources.unified is written to a v2 cgroup, and refused on v1", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("exec sleep 30", "", R"(, "resources": {"unified": {"memory.high": "104857600"}})");
  // The linux object's own resources come first in the text; the later member would be lost.
  b.rewrite(R"("resources": {"memory": {"limit": 134217728}},)", "");
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
  b.rewrite(R"({"type": "network"})",
            fmt::format(R"({{"type": "network", "path": "/proc/{}/ns/net"}})", netns.pid()));
  // A working directory the image lacks is made, as runc makes it.
  b.rewrite(R"("cwd": "/")", R"("cwd": "/work/here")");
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
  b.rewrite(R"({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})", mounts);
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
  tty.rewrite("\"terminal\": false, ", "");
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
    b.rewrite("\"mounts\": [",
              fmt::format(R"("mounts": [{{"destination": "{}", "type": "{}", "source": "{}"}},)",
                          dest, type, source));
    auto c = oci_container::create(root.path(), "hostile", b.dir);
    INFO(dest);
    if (c) MUST(c->destroy(true));
    CHECK(fs::is_empty(outside));
  }
  CHECK(test::leftovers(root).empty());
}
