// Debian 12 as a hosting user runs it: templates made by `template create --debootstrap`
// (tests/support/debian-templates, cached), imported, booted with their own init and daemons,
// and stopped cleanly.
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <catch2/catch.hpp>
#include "distro/debian_template.hpp"
#include "model/layout.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

ovz::exec_result sh(const ovz::ve& v, const std::string& script) {
  return MUST(v.exec({"/bin/sh", "-c", script}));
}

// Waits (up to a minute: the boot runs many scripts on a loaded machine) until each daemon
// named has a process.
void wait_for_daemons(const ovz::ve& v, const std::string& names) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  const std::string script = "for d in " + names + "; do pidof $d >/dev/null || exit 1; done";
  while (sh(v, script).exit_code != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      FAIL("not all of " << names << " run:\n" << sh(v, "ps ax").out);
    }
    std::this_thread::sleep_for(200ms);
  }
}

// The first line a TCP server inside the VE answers on 127.0.0.1:port, through bash's
// /dev/tcp (the template has no curl or nc).
std::string first_line(const ovz::ve& v, int port, const std::string& send) {
  auto r = sh(v, "exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
                     " && printf \"" + send + "\" >&3 && head -1 <&3'");
  INFO(r.err);
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
  MUST(v.stop({.fast = true}));
  CHECK(ovz::test::leftovers(d.root).empty());
}

TEST_CASE("a sysvinit Debian VE stops with its shutdown scripts run", "[debian][stop]") {
  ovz::test::require_root();
  debian_ve d("sysv", 14221);
  auto& v = d.v;
  MUST(v.start());
  wait_for_daemons(v, sysv_daemons);
  // /run is in the VE's private area: what rc0 removes is seen from the host afterwards.
  const fs::path run = d.upper() / "run";
  REQUIRE(fs::exists(run / "apache2/apache2.pid"));
  REQUIRE(fs::exists(run / "rsyslogd.pid"));

  const auto start = std::chrono::steady_clock::now();
  // Far longer than a clean shutdown takes: only init's own exit ends the stop early.
  MUST(v.stop({.timeout = 120s}));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "sysvinit Debian VE: clean stop in " << took << " s\n";
  // Init ended itself (halt's reboot(2), which needs CAP_SYS_BOOT in the VE) rather than
  // being killed at the timeout; the margin is for a loaded machine, not a measurement.
  CHECK(took < 100);

  CHECK_FALSE(fs::exists(run / "apache2/apache2.pid"));
  CHECK_FALSE(fs::exists(run / "rsyslogd.pid"));
  const auto syslog = ovz::test::read_text(d.upper() / "var/log/syslog");
  CHECK_THAT(syslog, Catch::Contains("Switching to runlevel: 0"));
  CHECK_THAT(ovz::test::read_text(d.upper() / "var/log/apache2/error.log"),
             Catch::Contains("caught SIGTERM, shutting down"));
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);
  CHECK(ovz::test::leftovers(d.root).empty());
}
