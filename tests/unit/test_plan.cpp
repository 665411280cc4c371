// A VE's plan is computed from CTID.conf, the layout and the host's facts alone: tested here
// without root and without touching the host.

#include <catch2/catch.hpp>

#include "support/temp_root.hpp"
#include "ve/plan.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

using namespace ovz;
using ovz::fs_step;

namespace {

detail::ve_layout layout(std::uint32_t id) {
  return detail::layout_of("/srv/ovz", MUST(ctid::from_number(id)),
                           detail::root_identity{.dev = 8, .ino = 2, .installation = false});
}

detail::plan_inputs host_facts() {
  detail::plan_inputs in;
  in.template_root = "/srv/ovz/template/busybox";
  in.confine.nr_open = 1048576;
  return in;
}

detail::ve_plan plan_of(const std::string& conf_text, detail::plan_inputs in = host_facts(),
                        std::uint32_t id = 13700) {
  auto conf = MUST(ve_config::parse(conf_text));
  return MUST(detail::plan_for(conf, layout(id), in));
}

bool has_step(const std::vector<fs_step>& steps, fs_step::kind k, const std::string& target) {
  return std::ranges::any_of(steps, [&](const fs_step& s) { return s.what == k && s.target == target; });
}

}  // namespace

TEST_CASE("A plan holds what a start makes of CTID.conf", "[plan]") {
  auto p = plan_of("NUMPROC=\"64:64\"\nHOSTNAME=\"web\"\nIP_ADDRESS=\"10.1.2.3\"\n");
  CHECK(p.id.value() == 13700);
  CHECK(p.cgroup == "ovz-8-2/13700");
  CHECK(p.namespaces.has(ns_type::pid));
  CHECK(p.namespaces.has(ns_type::net));
  CHECK_FALSE(p.namespaces.has(ns_type::user));
  CHECK_FALSE(p.userns);
  CHECK(p.hostname == "web");
  CHECK(p.init == std::vector<std::string>{"/sbin/init"});
  CHECK(p.limits.pids_max == 64u);
  CHECK(p.network.ip_addresses.size() == 1);
  CHECK(p.root == "/srv/ovz/root/13700");
  CHECK(p.console == "/srv/ovz/log/13700.console");
  CHECK(has_step(p.mounts, fs_step::kind::mount, "/srv/ovz/root/13700/proc"));
  CHECK(has_step(p.mounts, fs_step::kind::mknod, "/srv/ovz/root/13700/dev/null"));
  // The root itself is the storage's: the plan's mounts go on top of it.
  CHECK_FALSE(has_step(p.mounts, fs_step::kind::mount, "/srv/ovz/root/13700"));
  CHECK(p.confine.builtin_seccomp);
  REQUIRE(p.confine.seccomp);
  CHECK_FALSE(p.confine.drop_capabilities.empty());
}

TEST_CASE("A plan's storage is the overlay of template and private area", "[plan]") {
  auto p = plan_of("HOSTNAME=\"a\"\n");
  REQUIRE(p.storage);
  CHECK(p.storage->describe() == "overlay lower=/srv/ovz/template/busybox "
                                 "upper=/srv/ovz/private/13700/fs work=/srv/ovz/private/13700/work");
}

TEST_CASE("A plan's storage of a VE with a disk image is an overlay in the image", "[plan][disk]") {
  auto in = host_facts();
  in.storage = detail::storage_kind::image;
  auto p = plan_of("DISKSPACE=\"1G\"\n", in);
  REQUIRE(p.storage);
  CHECK(p.storage->describe() ==
        "overlay lower=/srv/ovz/template/busybox upper=/srv/ovz/private/13700/disk/fs "
        "work=/srv/ovz/private/13700/disk/work in the ext4 image "
        "/srv/ovz/private/13700/disk.img");
}

TEST_CASE("A plan for a VE in a user namespace maps its root and binds its nodes", "[plan]") {
  auto p = plan_of("USERNS=\"yes\"\nUSERNS_MAP=\"1000000:65536\"\n");
  CHECK(p.namespaces.has(ns_type::user));
  REQUIRE(p.userns);
  REQUIRE(p.userns->shifted);
  CHECK(p.userns->shifted->base == 1000000);
  CHECK(p.userns->shifted->count == 65536);
  CHECK(p.userns->root_uid() == 1000000u);
  CHECK(p.userns->uid_map.size() == 1);
  CHECK(has_step(p.mounts, fs_step::kind::bind, "/srv/ovz/root/13700/dev/null"));

  auto conf = MUST(ve_config::parse("USERNS=\"yes\"\n"));
  auto refused = detail::plan_for(conf, layout(13700), host_facts());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(errc::bad_config));
}

TEST_CASE("A plan's devices and RLIMIT_NOFILE come from the host's facts", "[plan]") {
  auto in = host_facts();
  in.devnodes.push_back({"net/tun", {'c', 10, 200, 7}, S_IFCHR | 0666});
  in.confine.nr_open = 4096;
  auto p = plan_of("NUMFILE=\"8192:8192\"\n", in);
  CHECK(has_step(p.mounts, fs_step::kind::mkdir, "/srv/ovz/root/13700/dev/net"));
  CHECK(has_step(p.mounts, fs_step::kind::mknod, "/srv/ovz/root/13700/dev/net/tun"));
  CHECK(std::ranges::any_of(p.device_rules, [](const detail::device_rule& r) {
    return r.type == 'c' && r.major == 10 && r.minor == 200;
  }));
  CHECK(p.confine.nofile.hard == 4096);  // fs.nr_open bounds it
  CHECK(p.confine.nofile.soft == 4096);

  in.confine.nofile_ceiling = 2048;  // a caller without CAP_SYS_RESOURCE gives at most its own
  CHECK(plan_of("NUMFILE=\"8192:8192\"\n", in).confine.nofile.hard == 2048);
}

TEST_CASE("A plan writes HOSTNAME, the first address and the resolver into /etc", "[plan]") {
  auto p = plan_of("HOSTNAME=\"web.example.com\"\nIP_ADDRESS=\"10.1.2.3 fd00::3\"\n"
                   "NAMESERVER=\"192.0.2.53\"\nSEARCHDOMAIN=\"example.com\"\n");
  REQUIRE(p.etc);
  CHECK(p.etc->hostname == "web.example.com");
  CHECK(p.etc->hosts_ip == "10.1.2.3");
  CHECK(p.etc->nameservers == std::vector<std::string>{"192.0.2.53"});
  CHECK(p.etc->searchdomains == std::vector<std::string>{"example.com"});
  auto text = detail::to_text(p);
  CHECK(text.find("etc          hostname web.example.com; hosts 10.1.2.3 web.example.com\n") !=
        std::string::npos);
  CHECK(text.find("etc          resolv.conf nameserver 192.0.2.53\n") != std::string::npos);

  // Without an address: Debian's 127.0.1.1; without NAMESERVER: resolv.conf left alone.
  p = plan_of("HOSTNAME=\"db\"\n");
  CHECK(p.etc->hosts_ip == "127.0.1.1");
  CHECK_FALSE(p.etc->nameservers);
  CHECK_FALSE(p.etc->searchdomains);

  // inherit: the host's servers (its loopback stub left out) and search list.
  auto in = host_facts();
  in.host_resolv = "nameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch corp.example\n";
  p = plan_of("NAMESERVER=\"inherit\"\nSEARCHDOMAIN=\"inherit\"\n", in);
  CHECK(p.etc->nameservers == std::vector<std::string>{"192.0.2.1"});
  CHECK(p.etc->searchdomains == std::vector<std::string>{"corp.example"});
}

TEST_CASE("A plan refuses what start refuses in CTID.conf", "[plan]") {
  for (const char* text : {"NUMPROC=\"1:1\"\n", "CAPABILITY=\"NO_SUCH:on\"\n",
                           "IP_ADDRESS=\"not-an-address\"\n", "NAMESERVER=\"1.2.3\"\n",
                           "SEARCHDOMAIN=\"a..b\"\n"}) {
    INFO(text);
    auto conf = MUST(ve_config::parse(text));
    CHECK_FALSE(detail::plan_for(conf, layout(13701), host_facts()));
  }
  // A profile file is the host's to read: a plan made without it refuses to guess.
  auto conf = MUST(ve_config::parse("SECCOMP_PROFILE=\"/etc/ovz/strict.profile\"\n"));
  auto refused = detail::plan_for(conf, layout(13701), host_facts());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("/etc/ovz/strict.profile") != std::string::npos);
}

TEST_CASE("A plan prints an item per line", "[plan]") {
  auto text = detail::to_text(plan_of("NUMPROC=\"64:64\"\nHOSTNAME=\"web\"\n"));
  INFO(text);
  for (const char* line :
       {"ve           13700\n", "cgroup       ovz-8-2/13700\n",
        "id map       none\n",
        "storage      overlay lower=/srv/ovz/template/busybox upper=/srv/ovz/private/13700/fs "
        "work=/srv/ovz/private/13700/work\n",
        "fs           mount proc proc on /srv/ovz/root/13700/proc (nosuid,nodev,noexec)\n",
        "fs           mknod /srv/ovz/root/13700/dev/null 20666 1:3\n",
        "device       c 136:* rwm\n", "seccomp      default allow\n",
        "hostname     web\n", "init         /sbin/init\n", "no_new_privs no\n",
        "broker       mount umount2 sethostname setdomainname quotactl (by the monitor)\n"})
    CHECK(text.find(line) != std::string::npos);
  // A time namespace where the kernel has them.
  const bool timens = ::access("/proc/self/ns/time", F_OK) == 0;
  CHECK(text.find(timens ? "namespaces   pid mnt uts ipc net cgroup time\n"
                         : "namespaces   pid mnt uts ipc net cgroup\n") != std::string::npos);
  CHECK(text.find("limits       pids=64 ") != std::string::npos);
  CHECK(text.find("caps dropped cap_sys_module") != std::string::npos);
}

TEST_CASE("A plan mounts the VE's cgroups at /sys/fs/cgroup, writable only where it cannot "
          "lift its own limits, and a tmpfs /run", "[plan][cgroups]") {
  const std::string cg = "/srv/ovz/root/13700/sys/fs/cgroup";
  auto mount_of = [](const detail::ve_plan& p, const std::string& target) {
    auto it = std::ranges::find_if(p.mounts, [&](const fs_step& s) {
      return s.what == fs_step::kind::mount && s.target == target;
    });
    REQUIRE(it != p.mounts.end());
    return *it;
  };
  SECTION("cgroup v2: cgroup2 itself, read-only without nsdelegate unless in a user namespace") {
    auto in = host_facts();
    in.cgroups = {{"/sys/fs/cgroup", {""}, true, false}};
    CHECK(mount_of(plan_of("", in), cg).fstype == "cgroup2");
    CHECK(mount_of(plan_of("", in), cg).flags & MS_RDONLY);
    CHECK_FALSE(mount_of(plan_of("USERNS=\"yes\"\nUSERNS_MAP=\"100000:65536\"\n", in), cg).flags &
                MS_RDONLY);
    in.cgroups.front().nsdelegate = true;
    CHECK_FALSE(mount_of(plan_of("", in), cg).flags & MS_RDONLY);
  }
  SECTION("cgroup v1: name=systemd and unified writable, controllers read-only, co-mounted ones "
          "found by each name, under a tmpfs made read-only") {
    auto in = host_facts();
    in.cgroups = {{"/sys/fs/cgroup/cpu,cpuacct", {"cpu", "cpuacct"}, false, false},
                  {"/sys/fs/cgroup/systemd", {"name=systemd"}, false, false},
                  {"/sys/fs/cgroup/unified", {""}, true, false}};
    auto p = plan_of("", in);
    CHECK(mount_of(p, cg).fstype == "tmpfs");
    CHECK(has_step(p.mounts, fs_step::kind::remount_ro, cg));
    auto cpu = mount_of(p, cg + "/cpu,cpuacct");
    CHECK(cpu.data == "cpu,cpuacct");
    CHECK(cpu.flags & MS_RDONLY);
    CHECK(has_step(p.mounts, fs_step::kind::symlink, cg + "/cpu"));
    CHECK(has_step(p.mounts, fs_step::kind::symlink, cg + "/cpuacct"));
    auto systemd = mount_of(p, cg + "/systemd");
    CHECK(systemd.data == "none,name=systemd");
    CHECK_FALSE(systemd.flags & MS_RDONLY);
    auto unified = mount_of(p, cg + "/unified");
    CHECK(unified.fstype == "cgroup2");
    CHECK_FALSE(unified.flags & MS_RDONLY);
  }
  SECTION("/run and /run/lock") {
    auto p = plan_of("");
    CHECK(mount_of(p, "/srv/ovz/root/13700/run").fstype == "tmpfs");
    CHECK(mount_of(p, "/srv/ovz/root/13700/run/lock").fstype == "tmpfs");
  }
}
