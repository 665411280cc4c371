// Debian 12 as a hosting user runs it: templates made by `template create --debootstrap`
// (tests/support/debian-templates, cached), imported, booted with their own init and daemons,
// and stopped cleanly.
#include <ovz/checkpoint.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <catch2/catch.hpp>
#include "distro/debian_template.hpp"
#include "model/layout.hpp"
#include "support/beancounters.hpp"
#include "support/kmod.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

ovz::exec_result sh(const ovz::ve& v, const std::string& script) {
  return MUST(v.exec({"/bin/sh", "-c", script}));
}

// Waits (up to three minutes: the boot runs many scripts, and in the lab's emulated CPU the
// first boot's `ssh-keygen -A` alone took over a minute) until each daemon named has a process.
void wait_for_daemons(const ovz::ve& v, const std::string& names) {
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  const std::string script = "for d in " + names + "; do pidof $d >/dev/null || exit 1; done";
  while (sh(v, script).exit_code != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      FAIL("not all of " << names << " run:\n"
                         << sh(v, "ps ax; systemctl list-jobs --no-pager 2>/dev/null; "
                                  "systemctl --failed --no-pager 2>/dev/null; "
                                  "journalctl -b --no-pager -n 60 2>/dev/null")
                                .out);
    }
    std::this_thread::sleep_for(200ms);
  }
}

// The first line a TCP server inside the VE answers on 127.0.0.1:port, through bash's
// /dev/tcp (the template has no curl or nc). A daemon that runs may not listen yet (sshd
// after its first boot's key generation, in the lab's slow guest): refused connections are
// tried again for a minute.
std::string first_line(const ovz::ve& v, int port, const std::string& send) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  const std::string script = "exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
                             " && printf \"" + send + "\" >&3 && head -1 <&3'";
  auto r = sh(v, script);
  while (r.exit_code != 0 && r.err.find("Connection refused") != std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    r = sh(v, script);
  }
  INFO(r.err);
  // Who listens where, and what the daemons said, when nothing answered.
  const std::string listening =
      r.exit_code == 0 ? "" : sh(v, "cat /proc/net/tcp /proc/net/tcp6; ps ax; "
                                    "journalctl -b --no-pager -n 40 2>/dev/null; "
                                    "tail -20 /var/log/apache2/error.log; "
                                    "grep . /sys/fs/cgroup/*.events /sys/fs/cgroup/pids.* 2>&1 | head -40").out;
  INFO(listening);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// A VE of the cached template `flavour`, imported into a private state root.
struct debian_ve {
  debian_ve(const std::string& flavour, std::uint32_t id) : v(root.open(id)) {
    auto t = MUST(ovz::template_store(root.path()).import(ovz::test::debian_template(flavour),
                                                          "debian-" + flavour));
    template_path = t.path;
    MUST(v.create({.ostemplate = t.name}));
  }
  ovz::test::temp_root root;
  ovz::ve v;
  fs::path template_path;
  fs::path upper() const { return ovz::detail::layout_of(root.path(), v.id()).upper; }
};

constexpr const char* sysv_daemons = "sshd apache2 cron rsyslogd";

}  // namespace

TEST_CASE("a sysvinit Debian VE from template create runs sshd, apache and cron, and ping as a user",
          "[debian]") {
  ovz::test::require_root();
  debian_ve d("sysv", 14220);
  auto& v = d.v;
  MUST(v.start());
  wait_for_daemons(v, sysv_daemons);

  CHECK(first_line(v, 80, "GET / HTTP/1.0\\r\\n\\r\\n").starts_with("HTTP/1.1 200 OK"));
  CHECK(first_line(v, 22, "").starts_with("SSH-2.0-OpenSSH"));
  // No getty respawning on ttys the VE has not.
  CHECK(sh(v, "pidof getty").exit_code != 0);
  // The VE made its own SSH host keys; the template has none to share.
  CHECK(sh(v, "test -s /etc/ssh/ssh_host_ed25519_key").exit_code == 0);
  CHECK_FALSE(fs::exists(d.template_path / "etc/ssh/ssh_host_ed25519_key"));
  // No machine-id shared by every VE (sysvinit has none; systemd's template an empty one).
  const fs::path machine_id = d.template_path / "etc/machine-id";
  CHECK((!fs::exists(machine_id) || fs::file_size(machine_id) == 0));
  // ping's cap_net_raw came through debootstrap, the cache's tar and import.
  auto ping = sh(v, "su nobody -s /bin/sh -c 'ping -c1 -W5 127.0.0.1'");
  INFO(ping.out << ping.err);
  CHECK(ping.exit_code == 0);
  // Its boot messages went to its console, a terminal, and so to the console log.
  const auto console =
      ovz::test::read_text(ovz::detail::layout_of(d.root.path(), v.id()).console_log);
  INFO(console);
  CHECK_THAT(console, Catch::Contains("Entering runlevel: 2"));
  CHECK_THAT(console, Catch::Contains("apache2"));
  // hostname.sh and mountkernfs.sh did their work: root of a VE may.
  CHECK_THAT(console, !Catch::Contains("you must be root to change the host name"));
  CHECK_THAT(console, !Catch::Contains("/run: permission denied"));
  // Root's everyday administration with the distribution's own tools.
  CHECK(sh(v, "hostname web1-renamed && hostname").out == "web1-renamed\n");
  CHECK(sh(v, "mount -t tmpfs tmpfs /mnt && findmnt -n -o FSTYPE /mnt && umount /mnt").out ==
        "tmpfs\n");
  CHECK(sh(v, "sysctl -w net.ipv4.ip_forward=1 net.core.somaxconn=4096").exit_code == 0);
  MUST(v.stop({.fast = true}));
  CHECK(ovz::test::leftovers(d.root).empty());
}

TEST_CASE("a sysvinit Debian VE stops with its shutdown scripts run", "[debian][stop]") {
  ovz::test::require_root();
  debian_ve d("sysv", 14221);
  auto& v = d.v;
  MUST(v.start());
  wait_for_daemons(v, sysv_daemons);
  // The daemons' pid files, in the VE's /run (a tmpfs, gone with the VE: its rc0 scripts'
  // removing them shows in their messages on the console instead).
  REQUIRE(sh(v, "test -s /run/apache2/apache2.pid && test -s /run/rsyslogd.pid").exit_code == 0);

  const auto start = std::chrono::steady_clock::now();
  // Far longer than a clean shutdown takes: only init's own exit ends the stop early.
  MUST(v.stop({.timeout = 120s}));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "sysvinit Debian VE: clean stop in " << took << " s\n";
  // Init ended itself (halt's reboot(2), which needs CAP_SYS_BOOT in the VE) rather than
  // being killed at the timeout; the margin is for a loaded machine, not a measurement.
  CHECK(took < 100);

  const auto layout = ovz::detail::layout_of(d.root.path(), v.id());
  const auto console = ovz::test::read_text(layout.console_log);
  INFO(console);
  // The line's start only: Debian's apache2 script may print its pidof's complaint about a
  // process that was exiting under it before the closing dot.
  CHECK_THAT(console, Catch::Contains("Stopping Apache httpd web server: apache2"));
  CHECK_THAT(console, Catch::Contains("Stopping enhanced syslogd: rsyslogd."));
  CHECK_THAT(console, Catch::Contains("Will now halt."));
  const auto syslog = ovz::test::read_text(d.upper() / "var/log/syslog");
  CHECK_THAT(syslog, Catch::Contains("Switching to runlevel: 0"));
  CHECK_THAT(ovz::test::read_text(d.upper() / "var/log/apache2/error.log"),
             Catch::Contains("caught SIGTERM, shutting down"));
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);
  CHECK(ovz::test::leftovers(d.root).empty());
}

TEST_CASE("a systemd Debian VE from template create boots to running and stops cleanly",
          "[debian][stop]") {
  ovz::test::require_root();
  debian_ve d("systemd", 14222);
  auto& v = d.v;
  MUST(v.start());
  wait_for_daemons(v, "sshd apache2 cron rsyslogd");
  // "starting" until the last unit is up; then "running", or "degraded" naming a failed unit.
  std::string state;
  for (int i = 0; i < 300; ++i) {
    state = sh(v, "systemctl is-system-running").out;
    if (state != "starting\n" && state != "initializing\n") break;
    std::this_thread::sleep_for(200ms);
  }
  INFO(sh(v, "systemctl --failed --no-legend").out);
  CHECK(state == "running\n");
  CHECK(first_line(v, 80, "GET / HTTP/1.0\\r\\n\\r\\n").starts_with("HTTP/1.1 200 OK"));
  // NUMPROC limits the VE as a whole: no service gets only systemd's 15 % of it.
  CHECK(sh(v, "systemctl show -P TasksMax apache2").out == "infinity\n");
  // The VE's own machine-id (the template's is empty) and SSH host keys.
  CHECK(sh(v, "test -s /etc/machine-id && test -s /etc/ssh/ssh_host_ed25519_key").exit_code == 0);
  CHECK(fs::file_size(d.template_path / "etc/machine-id") == 0);
  CHECK(sh(v, "su nobody -s /bin/sh -c 'ping -c1 -W5 127.0.0.1'").exit_code == 0);
  CHECK_THAT(ovz::test::read_text(ovz::detail::layout_of(d.root.path(), v.id()).console_log),
             Catch::Contains("Welcome to") && Catch::Contains("Debian GNU/Linux 12"));

  const auto start = std::chrono::steady_clock::now();
  MUST(v.stop({.timeout = 120s}));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "systemd Debian VE: clean stop in " << took << " s\n";
  CHECK(took < 100);  // systemd halted itself (SIGRTMIN+3), not killed at the timeout
  const auto console =
      ovz::test::read_text(ovz::detail::layout_of(d.root.path(), v.id()).console_log);
  INFO(console);
  CHECK_THAT(console, Catch::Contains("Reached target") && Catch::Contains("System Shutdown"));
  CHECK_THAT(console, Catch::Contains("Halting system."));
  // apache2.service stops it with a graceful stop (SIGWINCH).
  CHECK_THAT(ovz::test::read_text(d.upper() / "var/log/apache2/error.log"),
             Catch::Contains("caught SIGWINCH, shutting down gracefully"));
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);
  CHECK(ovz::test::leftovers(d.root).empty());
}

namespace {

// True when `password` matches `user`'s hash in the VE's /etc/shadow, checked by the VE's own
// libcrypt (perl-base is essential in Debian).
bool password_is(const ovz::ve& v, const std::string& user, const std::string& password) {
  auto r = sh(v, "perl -e '@e = getpwnam(shift); print crypt(shift, $e[1]) eq $e[1] ? \"yes\" : "
                 "\"no\"' " + user + " '" + password + "'");
  INFO(r.err);
  return r.out == "yes";
}

}  // namespace

// CTIDs 16060-16069.
TEST_CASE("a Debian VE's own free and nproc show its limits where the ovz module is loaded",
          "[debian][kmod]") {
  ovz::test::require_root();
  if (!ovz::test::module_here()) return;
  debian_ve d("sysv", 17224);
  auto& v = d.v;
  auto p = ovz::test::ubc(ovz::ubc_resource::physpages, "0:256M");
  p.cpu.cpus = 1;
  MUST(v.set(p, true));
  MUST(v.start());
  // procps' free reads /proc/meminfo; coreutils' nproc the affinity.
  auto mem = [&] {
    auto r = sh(v, "free -m | awk '/^Mem:/ {print $2, $3}'");
    INFO(r.out << r.err);
    std::istringstream in(r.out);
    long total = -1, used = -1;
    in >> total >> used;
    return std::pair(total, used);
  };
  const auto [total, used] = mem();
  CHECK(total == 256);
  CHECK(sh(v, "nproc").out == "1\n");
  // 64 MiB of tmpfs pages, charged to the VE's memory: used rises by them.
  REQUIRE(sh(v, "mount -t tmpfs hog /mnt && dd if=/dev/zero of=/mnt/fill bs=1M count=64 "
                "2>/dev/null").exit_code == 0);
  const auto [total_after, used_after] = mem();
  CHECK(total_after == 256);
  CHECK(used_after - used >= 56);
  sh(v, "umount /mnt");
  ovz::test::stop_then_unload(v);
  CHECK(ovz::test::leftovers(d.root).empty());
}

TEST_CASE("a Debian VE gets HOSTNAME, its resolver and users' passwords as vzctl set them",
          "[debian][settings]") {
  ovz::test::require_root();
  const std::string flavour = GENERATE("sysv", "systemd");
  INFO(flavour);
  debian_ve d(flavour, flavour == "sysv" ? 16060 : 16061);
  auto& v = d.v;
  // Stopped: saved, and the accounts edited by the host in Debian's own files.
  MUST(v.apply({.hostname = "web1.example.com",
                .nameservers = std::vector<std::string>{"192.0.2.53"},
                .searchdomains = std::vector<std::string>{"example.com"}},
               false));
  MUST(v.set_user_password("alice", "stopped pw"));
  MUST(v.start());
  wait_for_daemons(v, "sshd");
  // Its boot (hostname.sh, systemd) took /etc/hostname's name; the FQDN resolves.
  CHECK(sh(v, "hostname; hostname -f; cat /etc/hostname").out ==
        "web1.example.com\nweb1.example.com\nweb1.example.com\n");
  CHECK(sh(v, "getent hosts web1").out == "127.0.1.1       web1.example.com web1\n");
  CHECK(sh(v, "cat /etc/resolv.conf").out == "search example.com\nnameserver 192.0.2.53\n");
  // The accounts as useradd would have left them, shadow still root:shadow 0640.
  CHECK(sh(v, "getent passwd alice; getent group alice; stat -c '%U:%G %a' /etc/shadow "
              "/etc/gshadow /home/alice").out ==
        "alice:x:1000:1000::/home/alice:/bin/sh\nalice:x:1000:\nroot:shadow 640\nroot:shadow 640\n"
        "alice:alice 700\n");
  CHECK(password_is(v, "alice", "stopped pw"));
  // Running: the VE's own useradd and chpasswd.
  MUST(v.set_user_password("bob", "running pw"));
  MUST(v.set_user_password("alice", "changed"));
  CHECK(password_is(v, "bob", "running pw"));
  CHECK(password_is(v, "alice", "changed"));
  CHECK(sh(v, "getent passwd bob | cut -d: -f6; test -d /home/bob && echo home").out ==
        "/home/bob\nhome\n");
  // Live rename: hostname -f follows.
  MUST(v.set_hostname("db.example.org", false));
  CHECK(sh(v, "hostname -f").out == "db.example.org\n");
  MUST(v.stop({.fast = true}));
  CHECK(ovz::test::leftovers(d.root).empty());
}

// CTIDs 17130-17139 (checkpoint, issue 16).
TEST_CASE("a systemd Debian VE is checkpointed and restored with its services serving, its "
          "cgroups as systemd made them",
          "[debian][checkpoint]") {
  ovz::test::require_root();
  if (!ovz::test::checkpoint_works_here()) return;
  debian_ve d("systemd", 17130);
  auto& v = d.v;
  MUST(v.start());
  wait_for_daemons(v, "sshd apache2 cron rsyslogd");
  CHECK(first_line(v, 80, "GET / HTTP/1.0\\r\\n\\r\\n").starts_with("HTTP/1.1 200 OK"));
  const auto pids_before = sh(v, "pidof apache2 sshd cron | tr ' ' '\\n' | sort -n").out;
  // systemd's cgroups: what each enables for its children, where a service runs, and its
  // slices and services' cgroups (a one-shot's may be gone meanwhile).
  const char* controls = "cd /sys/fs/cgroup && cat $(find . -name cgroup.subtree_control | sort) "
                         "/proc/$(pidof cron)/cgroup";
  const char* dirs = "cd /sys/fs/cgroup && find . -type d | sort";
  const auto controls_before = sh(v, controls).out;
  const auto dirs_before = sh(v, dirs).out;

  MUST(v.checkpoint());
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);
  MUST(v.restore());
  CHECK(MUST(v.status()).state == ovz::ve_state::running);
  CHECK(sh(v, controls).out == controls_before);
  std::istringstream dirs_after(sh(v, dirs).out);
  for (std::string dir; std::getline(dirs_after, dir);) {
    INFO(dir << " after the restore, not before:\n" << dirs_before);
    CHECK(dirs_before.find(dir + "\n") != std::string::npos);
  }
  for (const char* kept : {"./init.scope\n", "./system.slice/ssh.service\n",
                           "./system.slice/apache2.service\n", "./system.slice/system-getty.slice\n"})
    CHECK(sh(v, dirs).out.find(kept) != std::string::npos);
  // The same processes, serving on.
  CHECK(sh(v, "pidof apache2 sshd cron | tr ' ' '\\n' | sort -n").out == pids_before);
  CHECK(first_line(v, 80, "GET / HTTP/1.0\\r\\n\\r\\n").starts_with("HTTP/1.1 200 OK"));
  INFO(sh(v, "systemctl --failed --no-legend").out);
  CHECK(sh(v, "systemctl is-system-running").out == "running\n");
  MUST(v.stop({.timeout = 120s}));
  CHECK(ovz::test::leftovers(d.root).empty());
}
