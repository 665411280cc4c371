// A VE's confinement changed through the API, as a panel would: device nodes granted and
// revoked live, no_new_privs, a replaced seccomp profile. CTIDs 1400-1449.

#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include <filesystem>
#include <fstream>

using namespace ovz;
using ovz::test::temp_root;

namespace {

int sh(const ve& v, const std::string& script) {
  auto r = MUST(v.exec({"/bin/sh", "-c", script}));
  UNSCOPED_INFO(script << " → " << r.exit_code << " " << r.out << r.err);
  return r.exit_code;
}

security_changes devnode(const char* name, device_access access) {
  security_changes c;
  c.devnodes = {{name, access}};
  return c;
}

std::string status_field(const ve& v, const char* pid, const char* field) {
  auto r = MUST(v.exec({"/bin/sh", "-c", std::string("grep '^") + field + ":' /proc/" + pid + "/status"}));
  return r.out;
}

}  // namespace

// /dev/kmsg is on every Linux host; writing to it is harmless (a debug line in the host's log)
// and its access is decided by the device cgroup before the driver sees the open.
TEST_CASE("DEVNODES grants a host device node live, with the access asked, and revokes it",
          "[isolation][devnodes]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1400);
  MUST(v.create());
  MUST(v.start());
  CHECK(sh(v, "test -e /dev/kmsg") != 0);

  MUST(v.set_security(devnode("kmsg", device_access::write), false));
  CHECK(sh(v, "test -c /dev/kmsg") == 0);
  CHECK(sh(v, "echo '<7>libovz: DEVNODES test' > /dev/kmsg") == 0);
  CHECK(sh(v, "head -c 1 /dev/kmsg") != 0);  // write-only: reading is refused

  MUST(v.set_security(devnode("kmsg", device_access::none), false));
  CHECK(sh(v, "test -e /dev/kmsg") != 0);
  // Not saved: the next start has no such node.
  CHECK_FALSE(MUST(v.config()).get("DEVNODES"));
  MUST(v.stop({.fast = true}));

  // Stopped: saved, and made at the next start.
  MUST(v.set_security(devnode("kmsg", device_access::write), false));
  CHECK(MUST(v.config()).get("DEVNODES") == "kmsg:w");
  MUST(v.start());
  CHECK(sh(v, "echo '<7>libovz: DEVNODES test' > /dev/kmsg") == 0);
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("bad DEVNODES are refused and change nothing", "[isolation][devnodes]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1401);
  MUST(v.create());
  MUST(v.start());
  const auto conf_before = MUST(v.config()).serialize();

  auto missing = v.set_security(devnode("no-such-device", device_access::read), true);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().sys_errno() == ENOENT);
  CHECK_THAT(missing.error().message(), Catch::Contains("VE 1401: DEVNODES: /dev/no-such-device"));
  auto not_node = v.set_security(devnode("shm", device_access::read), true);
  CHECK(not_node.error().is(errc::invalid_argument));
  auto escape = v.set_security(devnode("../etc/passwd", device_access::read), true);
  CHECK(escape.error().is(errc::invalid_argument));

  CHECK(MUST(v.config()).serialize() == conf_before);
  CHECK(sh(v, "ls /dev | grep -vxE 'console|fd|full|null|ptmx|pts|random|shm|stderr|stdin|stdout|tty|urandom|zero'") != 0);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("no_new_privs is opt-in, saved, and holds for new commands and the next init",
          "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1402);
  MUST(v.create());
  MUST(v.start());
  CHECK(status_field(v, "self", "NoNewPrivs") == "NoNewPrivs:\t0\n");

  security_changes nnp;
  nnp.no_new_privs = true;
  auto live_only = v.set_security(nnp, false);
  REQUIRE_FALSE(live_only);
  CHECK(live_only.error().is(errc::invalid_argument));
  CHECK_FALSE(MUST(v.security()).no_new_privs);

  MUST(v.set_security(nnp, true));
  CHECK(MUST(v.security()).no_new_privs);
  CHECK(status_field(v, "self", "NoNewPrivs") == "NoNewPrivs:\t1\n");
  CHECK(status_field(v, "1", "NoNewPrivs") == "NoNewPrivs:\t0\n");  // init started before
  MUST(v.restart({.fast = true}));
  CHECK(status_field(v, "1", "NoNewPrivs") == "NoNewPrivs:\t1\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a VE's seccomp profile replaces the built-in one", "[isolation][seccomp]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1403);
  MUST(v.create());
  const auto profile = root.path() / "no-mkdir.profile";
  std::ofstream(profile) << "# this VE may not make directories\n"
                            "default allow\n"
                            "errno:EACCES mkdir mkdirat\n";
  security_changes use;
  use.seccomp_profile = profile.string();
  MUST(v.set_security(use, false));
  MUST(v.start());
  auto r = MUST(v.exec({"/bin/sh", "-c", "mkdir /newdir"}));
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("Permission denied"));
  CHECK(sh(v, "touch /newfile") == 0);
  // The built-in profile's refusals are gone with it: the profile is the whole filter.
  CHECK(status_field(v, "1", "Seccomp") == "Seccomp:\t2\n");
  MUST(v.stop({.fast = true}));

  use.seccomp_profile = "unconfined";
  MUST(v.set_security(use, false));
  MUST(v.start());
  CHECK(status_field(v, "1", "Seccomp") == "Seccomp:\t0\n");
  CHECK(sh(v, "mkdir /newdir") == 0);
  MUST(v.stop({.fast = true}));

  use.seccomp_profile = "default";
  MUST(v.set_security(use, false));
  CHECK_FALSE(MUST(v.config()).get("SECCOMP_PROFILE"));
}

TEST_CASE("a bad seccomp profile is refused when set and when the VE starts",
          "[isolation][seccomp]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1404);
  MUST(v.create());
  const auto profile = root.path() / "bad.profile";
  std::ofstream(profile) << "default allow\nerrno mkdir no_such_call\n";
  security_changes use;
  use.seccomp_profile = profile.string();
  auto refused = v.set_security(use, true);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message(),
             Catch::Contains("line 2: unknown system call \"no_such_call\""));
  CHECK_FALSE(MUST(v.config()).get("SECCOMP_PROFILE"));

  // A profile that goes bad after it was set stops the start, and the start leaves nothing.
  std::ofstream(profile) << "default allow\n";
  MUST(v.set_security(use, true));
  std::filesystem::remove(profile);
  auto start = v.start();
  REQUIRE_FALSE(start);
  CHECK(start.error().sys_errno() == ENOENT);
  CHECK_THAT(start.error().message(), Catch::Contains(profile.string()));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a capability given back also lifts the built-in profile's refusal of its calls",
          "[isolation][seccomp]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1405);
  MUST(v.create());
  MUST(v.start());
  CHECK(sh(v, "dmesg > /dev/null") != 0);  // syslog(2): refused by seccomp and the cap drop
  security_changes syslog;
  syslog.capabilities = {{"syslog", true}};
  MUST(v.set_security(syslog, true));
  MUST(v.restart({.fast = true}));
  CHECK(sh(v, "dmesg > /dev/null") == 0);
  CHECK(status_field(v, "1", "Seccomp") == "Seccomp:\t2\n");  // the rest of the profile holds
  MUST(v.stop({.fast = true}));
}
