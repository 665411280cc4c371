// What the host writes into a VE as vzctl did: HOSTNAME into /etc/hostname and /etc/hosts,
// NAMESERVER and SEARCHDOMAIN into /etc/resolv.conf, --userpasswd into its accounts; ONBOOT
// and starting or stopping every VE at once. In default and --userns VEs, running and
// stopped, live and saved; a VE's symlinks never lead the host's writes out of its tree.
// CTIDs 16000-16099.
#include "support/temp_root.hpp"
#include "support/text_file.hpp"
#include "support/userns_root.hpp"

#include <ovz/ve.hpp>

#include "model/etc_files.hpp"
#include "model/layout.hpp"
#include "ve/etc_files.hpp"

#include <fmt/format.h>

#include <crypt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

using namespace ovz;

namespace {

namespace fs = std::filesystem;

std::string sh(const ve& v, const std::string& script) {
  auto r = MUST(v.exec({"/bin/sh", "-c", script}));
  INFO(script << "\n" << r.err);
  CHECK(r.exit_code == 0);
  return r.out;
}

// A default VE in a temp_root, or a --userns one in a root whose filesystem has idmapped
// mounts: the same checks run on both.
struct some_root {
  explicit some_root(bool userns) {
    if (userns)
      u.emplace();
    else
      t.emplace();
  }
  std::optional<test::userns_root> u;
  std::optional<test::temp_root> t;
  const fs::path& path() const { return u ? u->path() : t->path(); }
  ve open(std::uint32_t id) const { return u ? u->open(id) : t->open(id); }
};

std::string conf_value(const ve& v, const char* key) {
  return MUST(v.config()).get(key).value_or("<unset>");
}

// The host uid and gid of a file in the VE's private area.
std::pair<uid_t, gid_t> owner_in_upper(const some_root& root, const ve& v, const char* path) {
  struct stat st {};
  auto l = detail::layout_of(root.path(), v.id());
  REQUIRE(::lstat((l.upper / path).c_str(), &st) == 0);
  return {st.st_uid, st.st_gid};
}

std::uint32_t id_base(const ve& v) {
  auto map = MUST(v.config()).get("USERNS_MAP");
  if (!map) return 0;
  return static_cast<std::uint32_t>(std::stoul(map->substr(0, map->find(':'))));
}

bool verifies(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const char* again = ::crypt_r(password.c_str(), hash.c_str(), data.get());
  return again && hash == again;
}

// The shadow line of `user` inside the VE, "" when none.
std::string shadow_of(const ve& v, const std::string& user) {
  return sh(v, "grep '^" + user + ":' /etc/shadow || true");
}

// A file and a directory of the host's that a VE points its symlinks at.
struct host_bait {
  host_bait() {
    char tmpl[] = "/tmp/ovz-bait-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    dir = tmpl;
    std::ofstream(dir / "hosts") << "host's own\n";
    std::ofstream(dir / "hostname") << "host's own\n";
  }
  ~host_bait() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  bool untouched() const {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++n;
    return n == 2 && test::read_text(dir / "hosts") == "host's own\n" &&
           test::read_text(dir / "hostname") == "host's own\n";
  }
  fs::path dir;
};

}  // namespace

TEST_CASE("HOSTNAME goes into /etc/hostname and /etc/hosts at start and live, the VE's own "
          "lines kept, owned by the VE's root",
          "[ve][settings]") {
  test::require_root();
  const bool userns = GENERATE(false, true);
  INFO((userns ? "--userns VE" : "default VE"));
  some_root root(userns);
  auto v = root.open(userns ? 16001 : 16000);
  MUST(v.create({.hostname = "web1.example.com", .userns = userns}));
  MUST(v.start());

  // At start, before init: the files, and `hostname -f` answers with the FQDN.
  CHECK(sh(v, "cat /etc/hostname") == "web1.example.com\n");
  CHECK(sh(v, "hostname -f") == "web1.example.com\n");
  const std::string marker(detail::hosts_marker);
  CHECK(sh(v, "cat /etc/hosts") == "127.0.0.1\tlocalhost\n" + marker +
                                       "\n127.0.1.1\tweb1.example.com web1\n"
                                       "::1\tlocalhost ip6-localhost ip6-loopback\n");
  // Root's inside; on the host the VE's root id.
  CHECK(sh(v, "stat -c '%u:%g %a' /etc/hosts /etc/hostname") == "0:0 644\n0:0 644\n");
  const auto base = id_base(v);
  CHECK(owner_in_upper(root, v, "etc/hosts") == std::pair<uid_t, gid_t>{base, base});

  // The VE adds a line of its own; a live change keeps it and leaves CTID.conf alone.
  sh(v, "echo '192.0.2.7 gw' >> /etc/hosts");
  MUST(v.set_hostname("db.example.org", false));
  CHECK(sh(v, "hostname; hostname -f; cat /etc/hostname") ==
        "db.example.org\ndb.example.org\ndb.example.org\n");
  CHECK(sh(v, "cat /etc/hosts") == "127.0.0.1\tlocalhost\n" + marker +
                                       "\n127.0.1.1\tdb.example.org db\n"
                                       "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                       "192.0.2.7 gw\n");
  CHECK(conf_value(v, "HOSTNAME") == "web1.example.com");

  // A bad name changes nothing, live or saved.
  CHECK_FALSE(v.set_hostname("bad name!", true));
  CHECK(sh(v, "cat /etc/hostname") == "db.example.org\n");

  // The next start writes CTID.conf's name again.
  MUST(v.stop({.fast = true}));
  MUST(v.start());
  CHECK(sh(v, "hostname -f; cat /etc/hostname") == "web1.example.com\nweb1.example.com\n");
  CHECK(sh(v, "grep -c gw /etc/hosts") == "1\n");

  // Saved live; and on a stopped VE, saved and written at the next start.
  MUST(v.set_hostname("saved.example.net", true));
  CHECK(conf_value(v, "HOSTNAME") == "saved.example.net");
  CHECK(sh(v, "hostname -f") == "saved.example.net\n");
  MUST(v.stop({.fast = true}));
  MUST(v.set_hostname("stopped", false));
  CHECK(conf_value(v, "HOSTNAME") == "stopped");
  MUST(v.start());
  CHECK(sh(v, "hostname; cat /etc/hostname; grep stopped /etc/hosts") ==
        "stopped\nstopped\n127.0.1.1\tstopped\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a VE's symlinks do not lead the host's writes of its /etc out of its tree",
          "[ve][settings][isolation]") {
  test::require_root();
  const bool userns = GENERATE(false, true);
  INFO((userns ? "--userns VE" : "default VE"));
  some_root root(userns);
  host_bait bait;
  auto v = root.open(userns ? 16011 : 16010);
  MUST(v.create({.hostname = "first", .userns = userns}));
  MUST(v.start());
  // Absolute and climbing symlinks where the host writes, to a host path; and resolv.conf
  // pointing at the host's own.
  sh(v, fmt::format("rm -f /etc/hosts /etc/hostname && ln -s {0}/hosts /etc/hosts && "
                    "ln -s ../../../../../../../..{0}/hostname /etc/hostname && "
                    "ln -sf /etc/../../../../etc/passwd /etc/resolv.conf",
                    bait.dir.string()));
  const std::string host_passwd = test::read_text("/etc/passwd");
  MUST(v.apply({.hostname = "second", .nameservers = std::vector<std::string>{"192.0.2.1"}},
               false));
  CHECK(bait.untouched());
  CHECK(test::read_text("/etc/passwd") == host_passwd);
  // The links were replaced by files of the VE's own.
  CHECK(sh(v, "test ! -L /etc/hosts && test ! -L /etc/hostname && cat /etc/hostname") ==
        "second\n");
  CHECK(sh(v, "cat /etc/resolv.conf") == "nameserver 192.0.2.1\n");
  // The same planted in the stopped VE's tree, met by the next start.
  sh(v, fmt::format("rm -f /etc/hosts && ln -s {0}/hosts /etc/hosts", bait.dir.string()));
  MUST(v.stop({.fast = true}));
  MUST(v.start());
  CHECK(bait.untouched());
  CHECK(sh(v, "cat /etc/hostname") == "first\n");
  // An /etc that leads out: resolved inside the VE, where it leads nowhere; nothing written.
  sh(v, fmt::format("mv /etc /etc.real && ln -s {0} /etc", bait.dir.string()));
  MUST(v.set_hostname("third", false));
  CHECK(bait.untouched());
  CHECK(sh(v, "hostname") == "third\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("NAMESERVER and SEARCHDOMAIN go into /etc/resolv.conf at start and live",
          "[ve][settings]") {
  test::require_root();
  const bool userns = GENERATE(false, true);
  INFO((userns ? "--userns VE" : "default VE"));
  some_root root(userns);
  auto v = root.open(userns ? 16021 : 16020);
  MUST(v.create({.userns = userns}));
  // Stopped: saved, written at start.
  MUST(v.apply({.nameservers = std::vector<std::string>{"192.0.2.53", "2001:db8::53"},
                .searchdomains = std::vector<std::string>{"example.com", "example.org"}},
               false));
  CHECK(conf_value(v, "NAMESERVER") == "192.0.2.53 2001:db8::53");
  CHECK(conf_value(v, "SEARCHDOMAIN") == "example.com example.org");
  MUST(v.start());
  CHECK(sh(v, "cat /etc/resolv.conf") ==
        "search example.com example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n");
  CHECK(sh(v, "stat -c '%u:%g' /etc/resolv.conf") == "0:0\n");

  // The VE's own options stay; a live change without save leaves CTID.conf.
  sh(v, "echo 'options ndots:2' >> /etc/resolv.conf");
  MUST(v.apply({.nameservers = std::vector<std::string>{"198.51.100.1"}}, false));
  CHECK(sh(v, "cat /etc/resolv.conf") ==
        "search example.com example.org\noptions ndots:2\nnameserver 198.51.100.1\n");
  CHECK(conf_value(v, "NAMESERVER") == "192.0.2.53 2001:db8::53");

  // Bad input changes nothing, live or saved.
  const std::string before = sh(v, "cat /etc/resolv.conf");
  for (auto bad : {ve_changes{.nameservers = std::vector<std::string>{"198.51.100.2", "1.2.3"}},
                   ve_changes{.nameservers = std::vector<std::string>{"inherit", "10.0.0.1"}},
                   ve_changes{.searchdomains = std::vector<std::string>{"bad domain"}}}) {
    auto r = v.apply(bad, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
  }
  CHECK(sh(v, "cat /etc/resolv.conf") == before);
  CHECK(conf_value(v, "NAMESERVER") == "192.0.2.53 2001:db8::53");

  // inherit: the host's servers (not its loopback stub), saved as "inherit".
  MUST(v.apply({.nameservers = std::vector<std::string>{"inherit"}}, true));
  CHECK(conf_value(v, "NAMESERVER") == "inherit");
  const auto host = detail::resolv_nameservers(MUST(detail::host_resolv_conf()));
  std::string expected = "search example.com example.org\noptions ndots:2\n";
  for (const auto& s : host) expected += "nameserver " + s + "\n";
  CHECK(sh(v, "cat /etc/resolv.conf") == expected);

  // An empty list removes the key; the file is the VE's from then on.
  MUST(v.apply({.nameservers = std::vector<std::string>{}}, true));
  CHECK(conf_value(v, "NAMESERVER") == "<unset>");
  CHECK(sh(v, "cat /etc/resolv.conf") == expected);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("userpasswd sets a password and adds a missing user, in a stopped and a running "
          "VE, with the VE's ids",
          "[ve][settings]") {
  test::require_root();
  const bool userns = GENERATE(false, true);
  INFO((userns ? "--userns VE" : "default VE"));
  some_root root(userns);
  auto v = root.open(userns ? 16031 : 16030);
  MUST(v.create({.userns = userns}));
  const auto base = id_base(v);

  // Stopped: the host edits the files through the VE's root.
  MUST(v.set_user_password("alice", "first secret"));
  MUST(v.set_user_password("root", "root's"));
  MUST(v.start());
  CHECK(sh(v, "grep ^alice: /etc/passwd /etc/group") ==
        "/etc/passwd:alice:x:1000:1000::/home/alice:/bin/sh\n/etc/group:alice:x:1000:\n");
  auto line = shadow_of(v, "alice");
  auto hash = line.substr(6, line.find(':', 6) - 6);
  CHECK(hash.starts_with("$y$"));
  CHECK(verifies("first secret", hash));
  line = shadow_of(v, "root");
  CHECK(verifies("root's", line.substr(5, line.find(':', 5) - 5)));
  CHECK(sh(v, "stat -c '%u:%g %a' /home/alice /etc/shadow") == "1000:1000 700\n0:0 600\n");
  CHECK(owner_in_upper(root, v, "home/alice") ==
        std::pair<uid_t, gid_t>{base + 1000, base + 1000});
  CHECK(owner_in_upper(root, v, "etc/shadow") == std::pair<uid_t, gid_t>{base, base});
  // Nothing of it in CTID.conf.
  CHECK(test::read_text(v.conf_path()).find("secret") == std::string::npos);

  // Running, without chpasswd inside (busybox): the host again, under the VE's lock file.
  MUST(v.set_user_password("alice", "second"));
  line = shadow_of(v, "alice");
  CHECK(verifies("second", line.substr(6, line.find(':', 6) - 6)));
  CHECK(sh(v, "grep -c ^alice: /etc/passwd") == "1\n");

  // Bad input changes nothing.
  const std::string shadow = sh(v, "cat /etc/shadow");
  for (auto [user, password] : {std::pair{"Bad User", "x"}, {"bob", ""}, {"bob", "a\nb"},
                                {"../../etc", "x"}}) {
    auto r = v.set_user_password(user, password);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
  }
  CHECK(sh(v, "cat /etc/shadow") == shadow);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("userpasswd in a running VE with chpasswd runs it inside, the password on its "
          "stdin only",
          "[ve][settings]") {
  test::require_root();
  test::temp_root root;
  auto v = root.open(16040);
  MUST(v.create());
  MUST(v.start());
  // Stand-ins for shadow's tools that record what they were given.
  sh(v, "mkdir -p /usr/sbin && cd /usr/sbin && "
        "printf '#!/bin/sh\\necho \"useradd $*\" >> /tools.log\\n"
        "echo \"$2:x:1000:1000::/home/$2:/bin/sh\" >> /etc/passwd\\n' > useradd && "
        "printf '#!/bin/sh\\necho \"chpasswd $*\" >> /tools.log\\ncat >> /tools.stdin\\n' "
        "> chpasswd && chmod 755 useradd chpasswd");
  MUST(v.set_user_password("carol", "in:side pw"));
  const auto log = sh(v, "cat /tools.log");
  INFO(log);
  CHECK(log.starts_with("useradd -m carol\nchpasswd \n"));
  CHECK(log.find("in:side") == std::string::npos);
  CHECK(sh(v, "cat /tools.stdin") == "carol:in:side pw\n");
  // An existing user is not added again.
  MUST(v.set_user_password("carol", "again"));
  CHECK(sh(v, "grep -c useradd /tools.log") == "1\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("start_all starts the ONBOOT VEs, each whatever became of the others, and stop_all "
          "stops every running one",
          "[ve][settings]") {
  test::require_root();
  test::temp_root root;
  auto a = root.open(16050), broken = root.open(16051), manual = root.open(16052);
  for (auto* v : {&a, &broken, &manual}) MUST(v->create());
  MUST(a.apply({.onboot = true}, false));
  MUST(broken.apply({.onboot = true}, false));
  CHECK(conf_value(a, "ONBOOT") == "yes");
  // A start that fails: CTID.conf names a template that is not there.
  auto conf = MUST(broken.config());
  MUST(conf.set("OSTEMPLATE", "no-such-template"));
  MUST(conf.save(broken.conf_path()));

  auto entries = MUST(start_all(root.path(), true));
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].id.value() == 16050);
  CHECK(entries[0].done);
  CHECK_FALSE(entries[0].failure);
  CHECK(entries[1].id.value() == 16051);
  CHECK_FALSE(entries[1].done);
  REQUIRE(entries[1].failure);
  CHECK_THAT(entries[1].failure->message(), Catch::Contains("no-such-template"));
  CHECK(MUST(a.status()).state == ve_state::running);
  CHECK(MUST(manual.status()).state == ve_state::stopped);

  // Again: the running one is left as it is.
  entries = MUST(start_all(root.path(), true));
  REQUIRE(entries.size() == 2);
  CHECK_FALSE(entries[0].done);
  CHECK_FALSE(entries[0].failure);

  // Every VE; then every running one stopped.
  entries = MUST(start_all(root.path(), false));
  REQUIRE(entries.size() == 3);
  CHECK(entries[2].done);
  CHECK(MUST(manual.status()).state == ve_state::running);
  entries = MUST(stop_all(root.path(), {.fast = true}));
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].done);
  CHECK(entries[1].id.value() == 16052);
  CHECK(entries[1].done);
  for (auto* v : {&a, &broken, &manual}) CHECK(MUST(v->status()).state == ve_state::stopped);
  CHECK(MUST(stop_all(root.path())).empty());

  // ONBOOT is CTID.conf's only: unsaved on a running VE it is refused.
  MUST(a.start());
  auto r = a.apply({.onboot = false}, false);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::invalid_argument));
  MUST(a.apply({.onboot = false}, true));
  CHECK(conf_value(a, "ONBOOT") == "no");
  MUST(a.stop({.fast = true}));
}
