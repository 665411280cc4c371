// OCI containers in user namespaces: their own, one made before them as a pod's, and bind
// mounts idmapped to them.

#include "support/bundle.hpp"
#include "support/program.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"
#include "support/userns_root.hpp"

#include <ovz/namespaces.hpp>
#include <ovz/oci_container.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

using namespace ovz;
using Catch::Contains;
using ovz::test::bundle;
using ovz::test::pipe_pair;
using ovz::test::wait_stopped;
using ovz::test::output_of;
using ovz::test::created_as;
namespace fs = std::filesystem;

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
  b.rewrite(R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
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
  host_net.rewrite(R"({"type": "network"}, )", "");
  host_net.rewrite(R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
  CHECK(output_of(root, "userns-2", host_net.dir) == "sys there\n");

  // Refused, leaving nothing: no mappings, and a node whose owner the maps leave out.
  bundle unmapped(bundles.path / "unmapped");
  unmapped.configure("true");
  unmapped.rewrite(R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
  auto no_maps = oci_container::create(root.path(), "userns-3", unmapped.dir);
  REQUIRE_FALSE(no_maps);
  CHECK(no_maps.error().code() == errc::bad_config);
  CHECK_THAT(no_maps.error().message(), Contains("needs linux.uidMappings and gidMappings"));
  bundle orphan(bundles.path / "orphan");
  orphan.configure("true", "", R"(, "uidMappings": [{"containerID": 0, "hostID": 300000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 300000, "size": 1}])" + foo);
  orphan.rewrite(R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
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
    b.rewrite(R"({"type": "network"})",
            fmt::format(R"({{"type": "network", "path": "{}"}})", netns));
    b.rewrite(R"({"type": "mount"})",
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
    b.rewrite(tmp, tmp + ", " + mounts);
    if (!linux_extra.empty()) b.rewrite(R"({"type": "mount"})", R"({"type": "mount"}, {"type": "user"})");
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
