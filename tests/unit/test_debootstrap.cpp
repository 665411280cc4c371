#include "model/debootstrap.hpp"

#include "support/temp_root.hpp"

#include <string>
#include <vector>

using ovz::detail::apt_source;

namespace {

std::vector<std::string> uris(const std::vector<apt_source>& sources) {
  std::vector<std::string> out;
  for (const auto& s : sources) out.push_back(s.uri);
  return out;
}

}  // namespace

TEST_CASE("sources.list: the deb lines, options and comments skipped", "[debootstrap]") {
  auto sources = ovz::detail::parse_sources_list(
      "# deb http://commented/debian bookworm main\n"
      "deb-src http://src/debian bookworm main\n"
      "deb [arch=amd64 signed-by=/k.gpg] http://opts/debian bookworm main contrib\n"
      "deb [ arch=amd64 ] http://spaced/debian bookworm-updates main # a comment\n"
      "deb http://plain/debian trixie main\n"
      "deb http://short\n"
      "\n");
  REQUIRE(uris(sources) ==
          std::vector<std::string>{"http://opts/debian", "http://spaced/debian", "http://plain/debian"});
  CHECK(sources[0].suites == std::vector<std::string>{"bookworm"});
  CHECK(sources[1].suites == std::vector<std::string>{"bookworm-updates"});
}

TEST_CASE("deb822 sources: enabled deb stanzas, one source per URI", "[debootstrap]") {
  auto sources = ovz::detail::parse_deb822_sources(
      "Types: deb\n"
      "# a comment inside\n"
      "URIs: http://deb.debian.org/debian\n"
      "Suites: bookworm bookworm-updates\n"
      "Components: main\n"
      "\n"
      "Types: deb-src\n"
      "URIs: http://src/debian\n"
      "Suites: bookworm\n"
      "\n"
      "Types: deb\n"
      "URIs: http://off/debian\n"
      "Suites: bookworm\n"
      "Enabled: no\n"
      "\n"
      "types: deb deb-src\n"
      "uris: http://a/debian\n"
      "  http://b/debian\n"
      "suites: sid\n");
  REQUIRE(uris(sources) ==
          std::vector<std::string>{"http://deb.debian.org/debian", "http://a/debian", "http://b/debian"});
  CHECK(sources[0].suites == std::vector<std::string>{"bookworm", "bookworm-updates"});
  CHECK(sources[2].suites == std::vector<std::string>{"sid"});
}

TEST_CASE("the mirror: the source of the suite, else the host's Debian archive", "[debootstrap]") {
  std::vector<apt_source> host = {{"https://deb.nodesource.com/node_20.x", {"nodistro"}},
                                  {"http://deb.debian.org/debian-security", {"bookworm-security"}},
                                  {"http://deb.debian.org/debian/", {"bookworm", "bookworm-updates"}},
                                  {"http://local/ubuntu", {"jammy"}}};
  CHECK(ovz::detail::pick_mirror(host, "bookworm") == "http://deb.debian.org/debian/");
  CHECK(ovz::detail::pick_mirror(host, "jammy") == "http://local/ubuntu");
  CHECK(ovz::detail::pick_mirror(host, "trixie") == "http://deb.debian.org/debian/");
  CHECK_FALSE(ovz::detail::pick_mirror({host[0], host[3]}, "trixie"));
  CHECK_FALSE(ovz::detail::pick_mirror({}, "bookworm"));
}

TEST_CASE("a debootstrap request is checked before anything runs", "[debootstrap]") {
  MUST(ovz::detail::check_debootstrap_request("bookworm", "http://deb.debian.org/debian",
                                              {"sysvinit-core", "libstdc++6", "g++-12"}));
  MUST(ovz::detail::check_debootstrap_request("stable", "file:///srv/mirror", {}));
  for (const char* suite : {"", "-bookworm", "book worm", "../x", "a/b"}) {
    INFO(suite);
    auto r = ovz::detail::check_debootstrap_request(suite, "http://m/debian", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::invalid_argument));
  }
  for (const char* mirror : {"", "--foreign", "deb.debian.org/debian", "http://a b/", "ssh://m/"}) {
    INFO(mirror);
    CHECK_FALSE(ovz::detail::check_debootstrap_request("bookworm", mirror, {}));
  }
  for (const char* package : {"-x", "A", "a", "cron;rm", "Apache2", "a b"}) {
    INFO(package);
    auto r = ovz::detail::check_debootstrap_request("bookworm", "http://m/debian", {package});
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains("bad package name"));
  }
}

TEST_CASE("the packages: an init unless one is included, no duplicates", "[debootstrap]") {
  using v = std::vector<std::string>;
  CHECK(ovz::detail::debootstrap_packages({}) == v{"systemd-sysv"});
  CHECK(ovz::detail::debootstrap_packages({"cron", "cron"}) == v{"cron", "systemd-sysv"});
  CHECK(ovz::detail::debootstrap_packages({"sysvinit-core", "cron"}) == v{"sysvinit-core", "cron"});
  CHECK(ovz::detail::debootstrap_packages({"systemd-sysv"}) == v{"systemd-sysv"});

  CHECK(ovz::detail::debootstrap_argv("/t", "bookworm", "http://m/debian", {"a", "b"}, "/c") ==
        v{"debootstrap", "--variant=minbase", "--include=a,b", "--cache-dir=/c", "bookworm", "/t",
          "http://m/debian"});
  CHECK(ovz::detail::debootstrap_argv("/t", "sid", "http://m/debian", {}, {}) ==
        v{"debootstrap", "--variant=minbase", "sid", "/t", "http://m/debian"});
}

TEST_CASE("inittab: gettys commented out, the rest kept", "[debootstrap]") {
  const std::string debian =
      "id:2:initdefault:\n"
      "si::sysinit:/etc/init.d/rcS\n"
      "l0:0:wait:/etc/init.d/rc 0\n"
      "ca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now\n"
      "1:2345:respawn:/sbin/getty --noclear 38400 tty1\n"
      "2:23:respawn:/sbin/getty 38400 tty2\n"
      "#T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n"
      "T1:23:respawn:/sbin/agetty -L ttyS1 9600 vt100\n";
  CHECK(ovz::detail::inittab_without_gettys(debian) ==
        "id:2:initdefault:\n"
        "si::sysinit:/etc/init.d/rcS\n"
        "l0:0:wait:/etc/init.d/rc 0\n"
        "ca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now\n"
        "# A VE has no ttys: its gettys are commented out (ovz template create).\n"
        "#1:2345:respawn:/sbin/getty --noclear 38400 tty1\n"
        "#2:23:respawn:/sbin/getty 38400 tty2\n"
        "#T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n"
        "#T1:23:respawn:/sbin/agetty -L ttyS1 9600 vt100\n");
  // Already fit: unchanged, no second explanation.
  const std::string fit = "id:2:initdefault:\n#1:2345:respawn:/sbin/getty tty1\n";
  CHECK(ovz::detail::inittab_without_gettys(fit) == fit);
}

TEST_CASE("an imported sysvinit tree's startpar order gets the SSH key script before ssh",
          "[debootstrap]") {
  using ovz::detail::depend_start_before;
  const std::string depend = "TARGETS = rsyslog ssh cron\nINTERACTIVE =\nssh: rsyslog\n"
                             "cron: rsyslog\n";
  const auto once = depend_start_before(depend, "ovz-ssh-host-keys", "ssh");
  CHECK(once == "TARGETS = rsyslog ssh cron ovz-ssh-host-keys\nINTERACTIVE =\n"
                "ssh: rsyslog ovz-ssh-host-keys\ncron: rsyslog\n");
  CHECK(depend_start_before(once, "ovz-ssh-host-keys", "ssh") == once);
  // ssh without dependencies of its own gets a line.
  CHECK(depend_start_before("TARGETS = ssh\n", "k", "ssh") == "TARGETS = ssh k\nssh: k\n");
}
