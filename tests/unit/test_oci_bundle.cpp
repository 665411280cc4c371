// config.json as Podman and containerd write it, read into an oci_bundle: the fields a VE is
// started from, unknown ones skipped, and bad ones refused naming the field.

#include <ovz/oci_bundle.hpp>

#include <catch2/catch.hpp>

#include "support/temp_root.hpp"

#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>

using namespace ovz;

namespace {

// Trimmed from a rootful `podman run` on Debian 12, with a field from a newer spec.
const char* const podman_config = R"json({
  "ociVersion": "1.0.2-dev",
  "process": {
    "user": {"uid": 0, "gid": 0, "umask": 18, "additionalGids": [0, 10]},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
            "container=podman", "HOME=/root"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SOMETHING_NEWER"],
      "effective": ["CAP_CHOWN"],
      "permitted": ["CAP_CHOWN"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
                {"type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304}],
    "terminal": true,
    "consoleSize": {"height": 40, "width": 120},
    "oomScoreAdj": 0,
    "noNewPrivileges": true,
    "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "8d1c6a1e6f2e",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/etc/hosts", "type": "bind",
     "source": "/run/containers/storage/overlay-containers/8d1c/userdata/hosts",
     "options": ["bind", "rprivate"]}
  ],
  "annotations": {
    "io.container.manager": "libpod",
    "org.openvz.ubc.numproc": "64:64",
    "org.opencontainers.image.stopSignal": "15"
  },
  "hooks": {"poststop": [{"path": "/usr/bin/true", "args": ["true", "x"], "timeout": 5}]},
  "linux": {
    "sysctl": {"net.ipv4.ping_group_range": "0 0"},
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
      "memory": {"limit": 268435456, "swap": 536870912},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
      "pids": {"limit": 2048}
    },
    "cgroupsPath": "/libpod_parent/libpod-8d1c",
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/netns-8d1c"},
                   {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
    "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                 "fileMode": 438, "uid": 0, "gid": 0}],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}
      ]
    },
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
    "rootfsPropagation": "rprivate"
  }
})json";

}  // namespace

TEST_CASE("a Podman config.json is read into the bundle's fields", "[oci]") {
  auto b = MUST(parse_oci_config(podman_config, "/var/lib/bundle"));
  CHECK(b.dir == "/var/lib/bundle");
  CHECK(b.oci_version == "1.0.2-dev");
  CHECK(b.root == "/var/lib/bundle/rootfs");
  CHECK(b.root_readonly);
  CHECK(b.hostname == "8d1c6a1e6f2e");

  REQUIRE(b.process);
  const auto& p = *b.process;
  CHECK(p.args == std::vector<std::string>{"/bin/sh", "-c", "echo hi"});
  CHECK(p.env.size() == 4);
  CHECK(p.cwd == "/");
  CHECK(p.terminal);
  CHECK((p.console_height == 40 && p.console_width == 120));
  CHECK(p.user.umask == mode_t{022});
  CHECK(p.user.additional_gids == std::vector<gid_t>{0, 10});
  CHECK(p.no_new_privileges);
  CHECK(p.oom_score_adj == 0);
  REQUIRE(p.capabilities);
  CHECK(p.capabilities->bounding == std::vector<int>{CAP_CHOWN, CAP_NET_BIND_SERVICE});
  CHECK(p.capabilities->effective == std::vector<int>{CAP_CHOWN});
  CHECK(p.capabilities->ambient.empty());
  REQUIRE(p.rlimits.size() == 2);
  CHECK(p.rlimits[0].resource == RLIMIT_NOFILE);
  CHECK(p.rlimits[1].hard == 4194304);

  REQUIRE(b.mounts.size() == 3);
  CHECK(b.mounts[0].type == "proc");
  CHECK(b.mounts[1].options.back() == "size=65536k");
  CHECK(b.mounts[2].destination == "/etc/hosts");

  CHECK(b.annotations.at("org.openvz.ubc.numproc") == "64:64");
  CHECK(b.annotations.size() == 3);
  REQUIRE(b.hooks.poststop.size() == 1);
  CHECK(b.hooks.poststop[0].args == std::vector<std::string>{"true", "x"});
  CHECK(b.hooks.poststop[0].timeout == 5);
  CHECK(b.hooks.prestart.empty());

  CHECK(b.sysctl.at("net.ipv4.ping_group_range") == "0 0");
  CHECK(b.resources.memory_limit == 268435456);
  CHECK(b.resources.memory_swap == 536870912);
  CHECK(b.resources.cpu_shares == 512u);
  CHECK(b.resources.cpu_quota == 50000);
  CHECK(b.resources.cpu_cpus == "0");
  CHECK(b.resources.pids_limit == 2048);
  REQUIRE(b.resources.devices.size() == 2);
  CHECK((!b.resources.devices[0].allow && b.resources.devices[0].type == 'a' &&
         !b.resources.devices[0].major));
  CHECK((b.resources.devices[1].type == 'c' && b.resources.devices[1].minor == 3));
  CHECK(b.cgroups_path == "/libpod_parent/libpod-8d1c");

  REQUIRE(b.namespaces.size() == 6);
  REQUIRE(b.find(ns_type::net));
  CHECK(b.find(ns_type::net)->path == "/run/netns/netns-8d1c");
  CHECK(b.find(ns_type::pid)->path.empty());
  CHECK_FALSE(b.find(ns_type::user));
  REQUIRE(b.devices.size() == 1);
  CHECK((b.devices[0].type == 'c' && b.devices[0].major == 10 && b.devices[0].file_mode == 0666));

  REQUIRE(b.seccomp);
  CHECK(b.seccomp->default_action == "SCMP_ACT_ERRNO");
  CHECK(b.seccomp->default_errno_ret == 38u);
  CHECK(b.seccomp->architectures.size() == 2);
  REQUIRE(b.seccomp->syscalls.size() == 3);
  CHECK(b.seccomp->syscalls[0].names == std::vector<std::string>{"read", "write"});
  CHECK(b.seccomp->syscalls[2].errno_ret == 1u);
  REQUIRE(b.seccomp->syscalls[2].args.size() == 1);
  CHECK(b.seccomp->syscalls[2].args[0].op == oci_seccomp_op::masked_eq);
  CHECK(b.seccomp->syscalls[2].args[0].value == 2114060288u);

  CHECK(b.masked_paths == std::vector<std::string>{"/proc/kcore", "/sys/firmware"});
  CHECK(b.readonly_paths.size() == 2);
  CHECK(b.rootfs_propagation == "rprivate");
}

TEST_CASE("a minimal config.json leaves the rest absent, and an absolute root as it is", "[oci]") {
  auto b = MUST(parse_oci_config(
      R"({"ociVersion": "1.1.0", "root": {"path": "/srv/root"}, "linux": {"seccomp": null}})",
      "bundle"));
  CHECK(b.dir.is_absolute());
  CHECK(b.root == "/srv/root");
  CHECK_FALSE(b.process);
  CHECK_FALSE(b.seccomp);
  CHECK_FALSE(b.resources.memory_limit);
  CHECK(b.namespaces.empty());
}

TEST_CASE("a bad config.json is refused naming the field and what it holds", "[oci]") {
  const auto refused = [](const std::string& json) {
    auto b = parse_oci_config(json, "/b");
    REQUIRE_FALSE(b);
    CHECK(b.error().code() == errc::bad_config);
    return b.error().message();
  };
  using Catch::Contains;
  CHECK_THAT(refused("{"), Contains("config.json: not JSON"));
  CHECK_THAT(refused(R"({"root": {"path": "r"}})"), Contains("ociVersion: missing"));
  CHECK_THAT(refused(R"({"ociVersion": "1.0.2"})"), Contains("root.path: missing"));
  const std::string head = R"({"ociVersion": "1.0.2", "root": {"path": "r"}, )";
  CHECK_THAT(refused(head + R"("process": {"args": [], "cwd": "/"}})"),
             Contains("process.args: missing or empty"));
  CHECK_THAT(refused(head + R"("process": {"args": ["sh"], "cwd": "tmp"}})"),
             Contains("process.cwd: must be an absolute path, found \"tmp\""));
  CHECK_THAT(refused(head + R"("process": {"args": ["sh"], "cwd": "/", "user": {"uid": "root"}}})"),
             Contains("process.user.uid: expected an unsigned integer, found \"root\""));
  CHECK_THAT(refused(head + R"("process": {"args": ["sh"], "cwd": "/", "terminal": "yes"}})"),
             Contains("process.terminal: expected true or false"));
  CHECK_THAT(refused(head + R"("process": {"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_X"}]}})"),
             Contains("process.rlimits[0].type: unknown resource \"RLIMIT_X\""));
  CHECK_THAT(refused(head + R"("linux": {"namespaces": [{"type": "pid"}, {"type": "nets"}]}})"),
             Contains("linux.namespaces[1].type: unknown namespace type \"nets\""));
  CHECK_THAT(refused(head + R"("linux": {"namespaces": [{"type": "pid"}, {"type": "pid"}]}})"),
             Contains("named twice"));
  CHECK_THAT(refused(head + R"("linux": {"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}})"),
             Contains("need a user namespace"));
  CHECK_THAT(refused(head + R"("linux": {"resources": {"memory": {"limit": "lots"}}}})"),
             Contains("linux.resources.memory.limit: expected an integer, found \"lots\""));
  CHECK_THAT(refused(head + R"("linux": {"resources": {"devices": [{"allow": true, "access": "rwx"}]}}})"),
             Contains("linux.resources.devices[0].access: must be letters of rwm"));
  CHECK_THAT(refused(head + R"("linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 7, "op": "SCMP_CMP_EQ"}]}]}}})"),
             Contains("linux.seccomp.syscalls[0].args[0].index"));
  CHECK_THAT(refused(head + R"("hooks": {"prestart": [{"path": "hook"}]}})"),
             Contains("hooks.prestart[0].path: must be an absolute path"));
}

TEST_CASE("exec's process file and update's resources file are read on their own", "[oci]") {
  auto p = MUST(parse_oci_process(
      R"({"terminal": false, "user": {"uid": 1000, "gid": 1000}, "args": ["ps", "-ef"],
          "env": ["PATH=/bin"], "cwd": "/tmp"})"));
  CHECK(p.args == std::vector<std::string>{"ps", "-ef"});
  CHECK((p.user.uid == 1000u && p.cwd == "/tmp"));
  CHECK_FALSE(p.capabilities);
  auto bad = parse_oci_process(R"({"args": ["ps"], "cwd": "rel"})");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("process.cwd"));

  auto r = MUST(parse_oci_resources(R"({"memory": {"limit": 134217728}, "pids": {"limit": 32},
                                        "cpu": {"quota": -1}})"));
  CHECK(r.memory_limit == 134217728);
  CHECK(r.pids_limit == 32);
  CHECK(r.cpu_quota == -1);
  CHECK_FALSE(r.cpu_shares);
}

TEST_CASE("the OpenVZ annotations name every beancounter and the CPU and disk settings", "[oci]") {
  const auto names = oci_openvz_annotations();
  const auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  CHECK(has("org.openvz.ubc.numproc"));
  CHECK(has("org.openvz.ubc.physpages"));
  CHECK(has("org.openvz.cpuunits"));
  CHECK(has("org.openvz.diskspace"));
}

namespace {

std::optional<ubc_value> ubc_in(const ve_params& p, ubc_resource r) {
  std::optional<ubc_value> v;
  for (const auto& [res, value] : p.ubc)
    if (res == r) v = value;
  return v;
}

}  // namespace

TEST_CASE("linux.resources become beancounters and CPU settings, annotations on top", "[oci]") {
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  oci_resources r;
  r.memory_limit = 256 << 20;
  r.memory_swap = 384 << 20;
  r.cpu_shares = 2048;
  r.cpu_quota = 150000;
  r.cpu_period = 100000;
  r.cpu_cpus = "0";
  r.pids_limit = 100;
  auto p = MUST(oci_params(r));
  CHECK(ubc_in(p, ubc_resource::physpages) == ubc_value{0, (256u << 20) / page});
  CHECK(ubc_in(p, ubc_resource::swappages) == ubc_value{0, (128u << 20) / page});
  CHECK(ubc_in(p, ubc_resource::numproc) == ubc_value{100, 100});
  CHECK(p.cpu.cpuunits == 2000u);
  CHECK(p.cpu.cpulimit == 150u);
  CHECK(p.cpu.cpumask == "0");
  CHECK_FALSE(ubc_in(p, ubc_resource::numfile));

  // The annotations win over the resources, and are read as vzctl set reads them.
  p = MUST(oci_params(r, {{"org.openvz.ubc.numproc", "64:64"},
                          {"org.openvz.cpuunits", "500"},
                          {"org.openvz.ubc.numfile", "1024"},
                          {"org.openvz.diskspace", "1G:2G"},
                          {"org.openvz.no-such-setting", "1"},
                          {"org.openvz.hostname", "ignored"},
                          {"io.podman.annotations.autoremove", "FALSE"}}));
  CHECK(ubc_in(p, ubc_resource::numproc) == ubc_value{64, 64});
  CHECK(std::count_if(p.ubc.begin(), p.ubc.end(),
                      [](const auto& e) { return e.first == ubc_resource::numproc; }) == 1);
  CHECK(ubc_in(p, ubc_resource::numfile) == ubc_value{1024, 1024});
  CHECK(p.cpu.cpuunits == 500u);
  CHECK(p.disk.diskspace);

  SECTION("-1 is unlimited, and an update names only what it gives") {
    oci_resources u;
    u.memory_limit = -1;
    u.memory_swap = -1;
    u.cpu_quota = -1;
    u.pids_limit = 0;
    auto q = MUST(oci_params(u));
    CHECK(ubc_in(q, ubc_resource::physpages) == ubc_value{0, ubc_unlimited});
    CHECK(ubc_in(q, ubc_resource::swappages) == ubc_value{0, ubc_unlimited});
    CHECK(ubc_in(q, ubc_resource::numproc) == ubc_value{});
    CHECK(q.cpu.cpulimit == 0u);
    CHECK_FALSE(q.cpu.cpuunits);
    CHECK_FALSE(q.cpu.cpumask);
  }
  SECTION("values that cannot be are refused, naming what holds them") {
    oci_resources bad;
    bad.memory_limit = 256 << 20;
    bad.memory_swap = 128 << 20;
    auto e = oci_params(bad);
    REQUIRE_FALSE(e);
    CHECK_THAT(e.error().message(), Catch::Contains("memory.swap"));
    bad = {};
    bad.cpu_cpus = "0-x";
    e = oci_params(bad);
    REQUIRE_FALSE(e);
    CHECK_THAT(e.error().message(), Catch::Contains("linux.resources.cpu.cpus"));
    e = oci_params({}, {{"org.openvz.ubc.numproc", "many"}});
    REQUIRE_FALSE(e);
    CHECK(e.error().code() == errc::invalid_argument);
    CHECK_THAT(e.error().message(), Catch::Contains("annotation org.openvz.ubc.numproc"));
    // cgroup v2 files by name are read as they are, for the cgroup.
    bad = MUST(parse_oci_resources(R"({"unified": {"memory.high": "1073741824"}})"));
    CHECK(bad.unified.at("memory.high") == "1073741824");
  }
}
