// Podman (Debian's 4.3, through conmon) running ovz-oci as its runtime: run, run -i, -t, -it,
// run -d, ps, logs, top, inspect, exec, exec -t, stop, kill, rm, exit statuses passed on,
// --uidmap, a fork bomb contained by a beancounter given as an annotation, and ovz-oci's
// refusals as Podman shows them. Podman's storage, its run directory and its configuration
// are the test's own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF); with no network (a bridge
// would outlive the test). Podman's default seccomp profile applies.

#include "support/program.hpp"
#include "support/runtime_cgroups.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <fmt/format.h>

#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

using Catch::Contains;
using ovz::test::describe;

namespace {

namespace fs = std::filesystem;

bool podman_here() { return std::system("command -v podman >/dev/null 2>&1") == 0; }

// Podman configured to keep everything under `dir` and to run ovz-oci.
struct podman_env {
  explicit podman_env(const fs::path& dir) : dir(dir) {
    // On a host whose root lacks CAP_SYS_RESOURCE (this lab's VM), no runtime may raise
    // RLIMIT_NOFILE past the caller's: Podman's default of 1048576 fails with crun as well.
    std::ofstream(dir / "containers.conf") << fmt::format(R"([containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{0}/events.log"
lock_type = "file"
tmp_dir = "{0}/tmp"
image_copy_tmp_dir = "{0}/tmp"
runtime = "ovz-oci"
runtime_supports_json = ["ovz-oci"]
[engine.runtimes]
ovz-oci = ["{1}"]
)",
                                                          dir.string(), OVZ_OCI_PATH);
    std::ofstream(dir / "storage.conf") << fmt::format(
        "[storage]\ndriver = \"overlay\"\ngraphroot = \"{0}/storage\"\nrunroot = \"{0}/run\"\n",
        dir.string());
    ::setenv("CONTAINERS_CONF", (dir / "containers.conf").c_str(), 1);
    ::setenv("CONTAINERS_STORAGE_CONF", (dir / "storage.conf").c_str(), 1);
    // Podman's storage makes temporary files under $TMPDIR, else /var/tmp (read-only in the
    // lab's guest).
    if (const char* t = ::getenv("TMPDIR")) old_tmpdir = t;
    fs::create_directories(dir / "tmp");
    ::setenv("TMPDIR", (dir / "tmp").c_str(), 1);
    had_oci_root = fs::exists("/run/ovz-oci");
  }
  ~podman_env() {
    run({"rm", "--all", "--force", "--time", "0"});
    run({"rmi", "--all", "--force"});
    // containers/storage keeps its overlay directory bound privately while it is in use.
    for (const char* m : {"storage/overlay", "run/overlay"})
      ::umount2((dir / m).c_str(), MNT_DETACH);
    ::unsetenv("CONTAINERS_CONF");
    ::unsetenv("CONTAINERS_STORAGE_CONF");
    if (old_tmpdir) {
      ::setenv("TMPDIR", old_tmpdir->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
    // Podman asks for `state` without --root, so its containers are under ovz-oci's default.
    std::error_code ec;
    if (!had_oci_root) fs::remove_all("/run/ovz-oci", ec);
  }
  ovz::test::outcome run(std::vector<std::string> args,
                         const std::string& stdin_path = "/dev/null") const {
    args.insert(args.begin(), "/usr/bin/podman");
    return ovz::test::run_program(std::move(args), stdin_path);
  }
  fs::path dir;
  std::optional<std::string> old_tmpdir;
  bool had_oci_root = false;
  // Where Podman's cgroupfs manager puts conmon, and the containers' cgroupsPath: gone
  // once the containers are (members go after the destructor's body).
  ovz::test::runtime_cgroups libpod_parent{"libpod_parent"};
};

// A one-layer image of the host's static busybox, as `podman import` makes it.
void import_busybox(const podman_env& p) {
  const fs::path root = p.dir / "rootfs";
  ovz::test::make_busybox_root(root, {"sh", "echo", "sleep", "seq", "wc", "cat", "hostname", "tty", "grep"});
  const auto tar = p.dir / "rootfs.tar";
  REQUIRE(ovz::test::run_program({"/bin/tar", "-C", root.string(), "-cf", tar.string(), "."})
              .exit_code == 0);
  auto imported = p.run({"import", tar.string(), "localhost/ovz-busybox"});
  INFO(describe(imported));
  REQUIRE(imported.exit_code == 0);
}

}  // namespace

TEST_CASE("Podman runs ovz-oci's containers", "[podman]") {
  ovz::test::require_root();
  if (!podman_here()) {
    std::cout << "SKIPPED: podman is not installed (install-deps.sh installs it)\n";
    return;
  }
  ovz::test::temp_dir dir;
  podman_env p(dir.path);
  import_busybox(p);
  const std::string image = "localhost/ovz-busybox";

  auto hello = p.run({"run", "--rm", "--network", "none", image, "/bin/sh", "-c",
                      "echo hello; grep ^Seccomp: /proc/self/status"});
  INFO(describe(hello));
  CHECK(hello.exit_code == 0);
  CHECK(hello.out == "hello\nSeccomp:\t2\n");

  auto terminal = p.run({"run", "--rm", "-t", "--network", "none", image, "/bin/tty"});
  INFO(describe(terminal));
  CHECK_THAT(terminal.out, Catch::StartsWith("/dev/pts/0"));

  // A user namespace: Podman gives the image to the range, root inside is its first id.
  auto mapped = p.run({"run", "--rm", "--network", "none", "--uidmap", "0:400000:65536",
                       "--gidmap", "0:400000:65536", image, "/bin/sh", "-c",
                       "cat /proc/self/uid_map; echo $(id -u) > /tmp/x && cat /tmp/x"});
  INFO(describe(mapped));
  CHECK(mapped.exit_code == 0);
  CHECK_THAT(mapped.out, Catch::Matches("\\s+0\\s+400000\\s+65536\\n0\\n"));

  // stdin kept open (-i) reaches the process, with a terminal (-t) too, where the terminal's
  // line discipline echoes it.
  std::ofstream(dir.path / "input") << "hello\n";
  const auto input = (dir.path / "input").string();
  auto piped = p.run({"run", "--rm", "-i", "--network", "none", image, "/bin/sh", "-c",
                      "read line; echo got $line"},
                     input);
  INFO(describe(piped));
  CHECK(piped.out == "got hello\n");
  auto interactive = p.run({"run", "--rm", "-it", "--network", "none", image, "/bin/sh", "-c",
                            "read line; echo got $line on $(tty)"},
                           input);
  INFO(describe(interactive));
  CHECK_THAT(interactive.out, Contains("got hello on /dev/pts/0"));

  // The container's exit status is Podman's, through conmon, the init's subreaper.
  CHECK(p.run({"run", "--rm", "--network", "none", image, "/bin/sh", "-c", "exit 7"}).exit_code == 7);

  auto started = p.run({"run", "-d", "--name", "ovz-bg", "--network", "none", "--hostname",
                        "ovz-bg", image, "/bin/sh", "-c", "echo up; hostname; exec sleep 100"});
  INFO(describe(started));
  REQUIRE(started.exit_code == 0);
  auto ps = p.run({"ps", "--format", "{{.Names}} {{.Status}}"});
  CHECK_THAT(ps.out, Contains("ovz-bg Up"));
  auto pid = p.run({"inspect", "--format", "{{.State.Pid}}", "ovz-bg"});
  CHECK(pid.exit_code == 0);
  CHECK(std::stoi(pid.out) > 0);
  // In the cgroup Podman's cgroupfs manager names: cgroupsPath /libpod_parent/libpod-<ID>.
  auto id = p.run({"inspect", "--format", "{{.Id}}", "ovz-bg"});
  REQUIRE(id.out.size() > 1);
  CHECK_THAT(ovz::test::read_text("/proc/" + std::to_string(std::stoi(pid.out)) + "/cgroup"),
             Contains(":/libpod_parent/libpod-" + id.out));
  auto top = p.run({"top", "ovz-bg"});
  INFO(describe(top));
  CHECK_THAT(top.out, Contains("sleep 100"));
  for (int i = 0; i < 100 && p.run({"logs", "ovz-bg"}).out != "up\novz-bg\n"; ++i)
    ::usleep(50000);
  CHECK(p.run({"logs", "ovz-bg"}).out == "up\novz-bg\n");
  auto in = p.run({"exec", "ovz-bg", "/bin/sh", "-c", "echo in $(hostname); exit 5"});
  INFO(describe(in));
  CHECK(in.exit_code == 5);
  CHECK(in.out == "in ovz-bg\n");
  // A terminal: the console socket's protocol between conmon and the runtime.
  auto tty = p.run({"exec", "-t", "ovz-bg", "/bin/tty"});
  INFO(describe(tty));
  CHECK(tty.exit_code == 0);
  CHECK_THAT(tty.out, Catch::StartsWith("/dev/pts/"));
  CHECK(p.run({"exec", "ovz-bg", "/bin/no-such-program"}).exit_code == 127);
  CHECK(p.run({"pause", "ovz-bg"}).exit_code == 0);
  CHECK_THAT(p.run({"ps", "-a", "--format", "{{.Names}} {{.Status}}"}).out, Contains("ovz-bg Paused"));
  CHECK(p.run({"unpause", "ovz-bg"}).exit_code == 0);
  auto updated = p.run({"update", "--memory", "64m", "ovz-bg"});
  INFO(describe(updated));
  CHECK(updated.exit_code == 0);
  // The VE's own view of its memory cgroup: v1's or v2's file, whichever the host has.
  auto limit = p.run({"exec", "ovz-bg", "/bin/sh", "-c",
                      "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes "
                      "2>/dev/null"});
  CHECK(limit.out == "67108864\n");
  auto stopped = p.run({"stop", "--time", "1", "ovz-bg"});
  INFO(describe(stopped));
  CHECK(stopped.exit_code == 0);
  CHECK_THAT(p.run({"ps", "-a", "--format", "{{.Names}} {{.Status}}"}).out,
             Contains("ovz-bg Exited (137)"));
  CHECK(p.run({"rm", "ovz-bg"}).exit_code == 0);
  auto doomed = p.run({"run", "-d", "--name", "ovz-kill", "--network", "none", image, "/bin/sleep", "100"});
  REQUIRE(doomed.exit_code == 0);
  auto killed = p.run({"kill", "--signal", "KILL", "ovz-kill"});
  INFO(describe(killed));
  CHECK(killed.exit_code == 0);
  for (int i = 0; i < 100 && p.run({"ps", "-a", "--format", "{{.Names}} {{.Status}}"}).out.find(
                                 "ovz-kill Exited (137)") == std::string::npos;
       ++i)
    ::usleep(50000);
  CHECK_THAT(p.run({"ps", "-a", "--format", "{{.Names}} {{.Status}}"}).out,
             Contains("ovz-kill Exited (137)"));
  CHECK(p.run({"rm", "ovz-kill"}).exit_code == 0);

  // A beancounter as an annotation: the bomb's shell ends at its first refused fork, having
  // started no more sleeps than numproc leaves room for beside the shells.
  auto bomb = p.run({"run", "--rm", "--network", "none", "--annotation",
                     "org.openvz.ubc.numproc=16:16", image, "/bin/sh", "-c",
                     "(for i in $(seq 40); do sleep 2 & echo >> /tmp/started; done) 2>/dev/null; "
                     "sleep 3; echo started $(wc -l < /tmp/started)"});
  INFO(describe(bomb));
  CHECK(bomb.exit_code == 0);
  REQUIRE(bomb.out.starts_with("started "));
  const int started_sleeps = std::stoi(bomb.out.substr(8));
  CHECK(started_sleeps <= 14);
  CHECK(started_sleeps >= 8);

  // What ovz-oci refuses is what Podman shows: conmon passes --log-format json, and Podman
  // prints the logged message, choosing its exit status by it (127: no such program).
  auto missing = p.run({"run", "--rm", "--network", "none", image, "/no/such/program"});
  INFO(describe(missing));
  CHECK(missing.exit_code == 127);
  CHECK_THAT(missing.err, Contains("Error: ovz-oci: ") &&
                              Contains("execute /no/such/program: No such file or directory"));
  auto refused = p.run({"run", "--rm", "--network", "none", "--annotation",
                        "org.openvz.ubc.numproc=lots", image, "/bin/echo", "ran"});
  INFO(describe(refused));
  CHECK(refused.exit_code == 126);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Contains("Error: OCI runtime error: ovz-oci: annotation "
                                   "org.openvz.ubc.numproc: numproc: Invalid value \"lots\""));
  CHECK(p.run({"ps", "-a", "--quiet"}).out.empty());
}
