#include "ovzctl/args.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace {

using ovzctl::literal_command;
using ovzctl::verb;

ovz::result<ovzctl::command> parse(std::vector<std::string_view> args) {
  return ovzctl::parse(args);
}

/// The command of a line that must parse.
ovzctl::command parsed(std::vector<std::string_view> args) {
  auto r = parse(std::move(args));
  if (!r) FAIL("refused: " << r.error().message());
  return std::move(r).value();
}

/// The message of a line that must be refused as a usage error.
std::string refusal(std::vector<std::string_view> args) {
  auto r = parse(std::move(args));
  if (r) FAIL("accepted");
  CHECK(r.error().is(ovz::errc::invalid_argument));
  return r.error().message();
}

}  // namespace

TEST_CASE("ovzctl: global options", "[ovzctl]") {
  CHECK(parsed({"--help"}).what == verb::help);
  CHECK(parsed({"-h"}).what == verb::help);
  CHECK(parsed({"help"}).what == verb::help);
  CHECK(parsed({"--version"}).what == verb::version);
  CHECK(parsed({"--root", "/srv/ovz", "--help"}).what == verb::help);

  auto cmd = parsed({"--root", "/srv/ovz", "status", "101"});
  CHECK(cmd.root == "/srv/ovz");
  CHECK(cmd.what == verb::status);
  CHECK(parsed({"--root=/srv/x", "list"}).root == "/srv/x");
  CHECK(parsed({"list"}).root.empty());

  CHECK_THAT(refusal({}), Catch::Contains("missing command"));
  CHECK_THAT(refusal({"--root"}), Catch::Contains("--root needs a value"));
  CHECK_THAT(refusal({"--root="}), Catch::Contains("--root needs a value"));
  CHECK_THAT(refusal({"--root", "/srv"}), Catch::Contains("missing command"));
  CHECK_THAT(refusal({"--bogus", "list"}), Catch::Contains("unknown option '--bogus'"));
  CHECK_THAT(refusal({"--version=1"}), Catch::Contains("takes no value"));
  CHECK_THAT(refusal({"frobnicate", "101"}), Catch::Contains("unknown command 'frobnicate'"));
}

TEST_CASE("ovzctl: verbs taking a CTID", "[ovzctl]") {
  const std::pair<std::string_view, verb> verbs[] = {
      {"create", verb::create}, {"start", verb::start},   {"stop", verb::stop},
      {"restart", verb::restart}, {"destroy", verb::destroy}, {"status", verb::status},
      {"enter", verb::enter},     {"suspend", verb::suspend}, {"resume", verb::resume},
      {"chkpnt", verb::chkpnt},   {"restore", verb::restore},
  };
  for (auto [name, what] : verbs) {
    INFO(name);
    auto cmd = parsed({name, "101"});
    CHECK(cmd.what == what);
    REQUIRE(cmd.id);
    CHECK(cmd.id->value() == 101);

    CHECK_THAT(refusal({name}), Catch::Contains("missing CTID"));
    for (std::string_view bad : {"abc", "0", "-1", "+5", "0101", "101x", "2147483648", ""}) {
      INFO("CTID '" << bad << "'");
      CHECK_THAT(refusal({name, bad}), Catch::Contains("invalid CTID"));
    }
    CHECK_THAT(refusal({name, "101", "--bogus"}), Catch::Contains("unknown option '--bogus'"));
    CHECK_THAT(refusal({name, "101", "extra"}), Catch::Contains("unexpected argument 'extra'"));
    CHECK(parsed({name, "101", "--help"}).what == verb::help);
  }
  CHECK(parsed({"start", "2147483647"}).id->value() == 2147483647u);
}

TEST_CASE("ovzctl: create options", "[ovzctl]") {
  auto cmd = parsed({"create", "101", "--ostemplate", "debian-12", "--hostname", "web"});
  CHECK(cmd.create.ostemplate == "debian-12");
  CHECK(cmd.create.hostname == "web");

  CHECK_FALSE(cmd.create.userns);

  cmd = parsed({"create", "101", "--hostname=db", "--userns"});
  CHECK(cmd.create.ostemplate.empty());
  CHECK(cmd.create.hostname == "db");
  CHECK(cmd.create.userns);
  CHECK_THAT(refusal({"create", "101", "--userns=yes"}), Catch::Contains("--userns"));

  CHECK_THAT(refusal({"create", "101", "--ostemplate"}),
             Catch::Contains("--ostemplate needs a value"));
  CHECK_THAT(refusal({"create", "101", "--hostname", ""}),
             Catch::Contains("--hostname needs a value"));
  CHECK_THAT(refusal({"create", "101", "--fast"}), Catch::Contains("unknown option '--fast'"));
  // The CTID comes first, as in vzctl.
  CHECK_THAT(refusal({"create", "--hostname", "web", "101"}), Catch::Contains("invalid CTID"));
}

TEST_CASE("ovzctl: stop --fast", "[ovzctl]") {
  CHECK_FALSE(parsed({"stop", "101"}).fast);
  CHECK(parsed({"stop", "101", "--fast"}).fast);
  CHECK_THAT(refusal({"stop", "101", "--fast=yes"}), Catch::Contains("takes no value"));
  CHECK_THAT(refusal({"restart", "101", "--fast"}), Catch::Contains("unknown option"));
}

TEST_CASE("ovzctl: chkpnt and restore", "[ovzctl]") {
  auto cmd = parsed({"chkpnt", "101"});
  CHECK(cmd.dumpfile.empty());
  CHECK_FALSE(cmd.checkpoint.leave_running);
  cmd = parsed({"chkpnt", "101", "--dumpfile", "/srv/dump/101", "--leave-running"});
  CHECK(cmd.dumpfile == "/srv/dump/101");
  CHECK(cmd.checkpoint.leave_running);
  cmd = parsed({"restore", "101", "--dumpfile=/srv/dump/101"});
  CHECK(cmd.what == verb::restore);
  CHECK(cmd.dumpfile == "/srv/dump/101");

  CHECK_THAT(refusal({"chkpnt", "101", "--dumpfile"}), Catch::Contains("--dumpfile needs a value"));
  CHECK_THAT(refusal({"chkpnt", "101", "--leave-running=yes"}), Catch::Contains("takes no value"));
  CHECK_THAT(refusal({"restore", "101", "--leave-running"}),
             Catch::Contains("unknown option '--leave-running'"));
  CHECK_THAT(refusal({"suspend", "101", "--dumpfile", "/d"}),
             Catch::Contains("unknown option '--dumpfile'"));
}

TEST_CASE("ovzctl: exec runs without a shell only what sh would take word for word", "[ovzctl]") {
  using words = std::vector<std::string>;
  CHECK(literal_command({"/bin/true"}) == words{"/bin/true"});
  CHECK(literal_command({"/usr/bin/env", "A=1", "-u", "x", "user@host:1,2+3%"}) ==
        words{"/usr/bin/env", "A=1", "-u", "x", "user@host:1,2+3%"});
  // A program sh looks up in PATH, or that is an assignment.
  CHECK(literal_command({"true"}).empty());
  CHECK(literal_command({"A=/bin/x", "/bin/true"}).empty());
  CHECK(literal_command({}).empty());
  // Anything sh would expand, split, quote, redirect or run apart.
  for (const char* word : {"$HOME", "a b", "*", "x?", "[ab]", "'q'", "\"x\"", "a\\b", "~/x",
                           ">f", "<f", "a|b", "a;b", "a&", "(x)", "{a,b}", "#c", "`id`", "!x", ""})
    CHECK(literal_command({"/bin/echo", word}).empty());
}

TEST_CASE("ovzctl: exec", "[ovzctl]") {
  auto cmd = parsed({"exec", "101", "echo", "hello", "world"});
  CHECK(cmd.what == verb::exec);
  CHECK(cmd.exec_words == std::vector<std::string>{"echo", "hello", "world"});

  // Options after the CTID are the command's, not ovzctl's.
  cmd = parsed({"exec", "101", "ls", "--help", "-a"});
  CHECK(cmd.what == verb::exec);
  CHECK(cmd.exec_words == std::vector<std::string>{"ls", "--help", "-a"});

  CHECK_THAT(refusal({"exec", "101"}), Catch::Contains("missing command"));
  CHECK_THAT(refusal({"exec"}), Catch::Contains("missing CTID"));
  CHECK_THAT(refusal({"exec", "x", "true"}), Catch::Contains("invalid CTID"));
}

TEST_CASE("ovzctl: set", "[ovzctl]") {
  auto cmd = parsed({"set", "101", "--hostname", "web"});
  CHECK(cmd.what == verb::set);
  CHECK(cmd.set.hostname == "web");
  CHECK_FALSE(cmd.set.save);

  cmd = parsed({"set", "101", "--save", "--hostname=web"});
  CHECK(cmd.set.hostname == "web");
  CHECK(cmd.set.save);

  CHECK_THAT(refusal({"set", "101"}), Catch::Contains("nothing to set"));
  CHECK_THAT(refusal({"set", "101", "--save"}), Catch::Contains("nothing to set"));
  CHECK_THAT(refusal({"set", "101", "--hostname"}), Catch::Contains("--hostname needs a value"));
  CHECK_THAT(refusal({"set", "101", "--hostname", "web", "--ram", "1G"}),
             Catch::Contains("unknown option '--ram'"));
}

TEST_CASE("ovzctl: set network options", "[ovzctl]") {
  auto cmd = parsed({"set", "101", "--ipadd", "10.0.0.1", "--ipadd=fd00::1/64", "--ipdel",
                     "10.0.0.9", "--netif_add", "eth0,,,,vmbr0", "--netif_del", "eth1", "--save"});
  REQUIRE(cmd.set.network.add_ips.size() == 2);
  CHECK(cmd.set.network.add_ips[1].str() == "fd00::1/64");
  REQUIRE(cmd.set.network.del_ips.size() == 1);
  CHECK_FALSE(cmd.set.network.del_all_ips);
  REQUIRE(cmd.set.network.add_netifs.size() == 1);
  CHECK(cmd.set.network.add_netifs[0].bridge == "vmbr0");
  CHECK(cmd.set.network.del_netifs == std::vector<std::string>{"eth1"});
  CHECK(parsed({"set", "101", "--ipdel", "all"}).set.network.del_all_ips);

  CHECK_THAT(refusal({"set", "101", "--ipadd", "10.0.0.300"}),
             Catch::Contains("--ipadd: Invalid IP address \"10.0.0.300\""));
  CHECK_THAT(refusal({"set", "101", "--ipdel", "everything"}), Catch::Contains("--ipdel"));
  CHECK_THAT(refusal({"set", "101", "--netif_add", "eth0,nomac"}),
             Catch::Contains("--netif_add: Invalid MAC address"));
  CHECK_THAT(refusal({"set", "101", "--netif_del"}), Catch::Contains("needs a value"));
}

TEST_CASE("ovzctl: list", "[ovzctl]") {
  auto cmd = parsed({"list"});
  CHECK(cmd.what == verb::list);
  CHECK_FALSE(cmd.all);
  CHECK(parsed({"list", "-a"}).all);
  CHECK(parsed({"list", "--all"}).all);
  CHECK_THAT(refusal({"list", "-x"}), Catch::Contains("unknown option '-x'"));
  CHECK_THAT(refusal({"list", "101"}), Catch::Contains("unexpected argument '101'"));
}

TEST_CASE("ovzctl: template", "[ovzctl]") {
  CHECK(parsed({"template", "list"}).what == verb::template_list);

  auto cmd = parsed({"template", "import", "/tmp/debian-12.tar.gz"});
  CHECK(cmd.what == verb::template_import);
  CHECK(cmd.tarball == "/tmp/debian-12.tar.gz");
  CHECK(cmd.template_name.empty());

  cmd = parsed({"template", "import", "--name", "deb", "x.tar"});
  CHECK(cmd.tarball == "x.tar");
  CHECK(cmd.template_name == "deb");

  CHECK_THAT(refusal({"template"}), Catch::Contains("missing subcommand"));
  CHECK_THAT(refusal({"template", "remove"}), Catch::Contains("unknown command 'template remove'"));
  CHECK_THAT(refusal({"template", "import"}), Catch::Contains("missing FILE"));
  CHECK_THAT(refusal({"template", "import", "a.tar", "b.tar"}),
             Catch::Contains("unexpected argument 'b.tar'"));
  CHECK_THAT(refusal({"template", "import", "a.tar", "--name"}),
             Catch::Contains("--name needs a value"));
  CHECK_THAT(refusal({"template", "list", "-a"}), Catch::Contains("unknown option '-a'"));
}

TEST_CASE("ovzctl: stop and restart --timeout", "[ovzctl]") {
  CHECK_FALSE(parsed({"stop", "101"}).stop_timeout);
  auto cmd = parsed({"stop", "101", "--timeout", "3"});
  CHECK(cmd.stop_timeout == std::chrono::milliseconds(3000));
  CHECK_FALSE(cmd.fast);
  CHECK(parsed({"restart", "101", "--timeout=0"}).stop_timeout == std::chrono::milliseconds(0));
  CHECK_THAT(refusal({"stop", "101", "--timeout", "1.5"}), Catch::Contains("--timeout: '1.5'"));
  CHECK_THAT(refusal({"stop", "101", "--timeout", "-1"}), Catch::Contains("not a number of seconds"));
  CHECK_THAT(refusal({"restart", "101", "--fast"}), Catch::Contains("unknown option '--fast'"));
}

TEST_CASE("ovzctl: set --stop_timeout", "[ovzctl]") {
  auto cmd = parsed({"set", "101", "--stop_timeout", "30", "--save"});
  CHECK(cmd.set.stop_timeout == std::chrono::seconds(30));
  CHECK_FALSE(cmd.set.empty());
  CHECK_THAT(refusal({"set", "101", "--stop_timeout", "x"}), Catch::Contains("stop_timeout"));
}

TEST_CASE("ovzctl: start --onboot and --all, stop --all", "[ovzctl]") {
  auto cmd = parsed({"start", "--onboot"});
  CHECK(cmd.what == verb::start);
  CHECK_FALSE(cmd.id);
  CHECK(cmd.onboot);
  CHECK(parsed({"start", "--all"}).all);
  cmd = parsed({"stop", "--all", "--fast"});
  CHECK(cmd.all);
  CHECK(cmd.fast);
  CHECK_THAT(refusal({"start"}), Catch::Contains("missing CTID (or --onboot or --all)"));
  CHECK_THAT(refusal({"stop", "--fast"}), Catch::Contains("missing CTID (or --all)"));
  CHECK_THAT(refusal({"start", "101", "--all"}), Catch::Contains("exclude each other"));
  CHECK_THAT(refusal({"start", "--onboot", "--all"}), Catch::Contains("exclude each other"));
  CHECK_THAT(refusal({"stop", "--onboot"}), Catch::Contains("unknown option '--onboot'"));
}

TEST_CASE("ovzctl: set --nameserver, --searchdomain, --onboot, --userpasswd", "[ovzctl]") {
  auto cmd = parsed({"set", "101", "--nameserver", "192.0.2.1", "--nameserver=2001:db8::1",
                     "--searchdomain", "example.com", "--onboot", "yes", "--save"});
  CHECK(cmd.set.nameservers == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});
  CHECK(cmd.set.searchdomains == std::vector<std::string>{"example.com"});
  CHECK(cmd.set.onboot == true);
  cmd = parsed({"set", "101", "--userpasswd", "alice:pa:ss"});
  CHECK(cmd.set.user == "alice");
  CHECK(cmd.set.password == "pa:ss");
  CHECK_FALSE(cmd.set.empty());
  cmd = parsed({"set", "101", "--userpasswd", "bob"});
  CHECK(cmd.set.user == "bob");
  CHECK_FALSE(cmd.set.password);
  CHECK_THAT(refusal({"set", "101", "--userpasswd", ":pw"}), Catch::Contains("USER:PASSWORD"));
  CHECK_THAT(refusal({"set", "101", "--userpasswd", "bob:"}), Catch::Contains("empty password"));
  CHECK_THAT(refusal({"set", "101", "--nameserver", "1.2.3"}), Catch::Contains("--nameserver: "));
  CHECK_THAT(refusal({"set", "101", "--onboot", "maybe"}), Catch::Contains("yes or no"));
}

TEST_CASE("ovzctl: template create", "[ovzctl]") {
  auto cmd = parsed({"template", "create", "deb12", "--debootstrap", "bookworm"});
  CHECK(cmd.what == verb::template_create);
  CHECK(cmd.template_name == "deb12");
  CHECK(cmd.debootstrap.suite == "bookworm");
  CHECK(cmd.debootstrap.mirror.empty());
  CHECK(cmd.debootstrap.include.empty());
  CHECK(cmd.debootstrap.cache_dir.empty());

  cmd = parsed({"template", "create", "--debootstrap=trixie", "--mirror", "http://m/debian",
                "--include", "sysvinit-core,cron", "--include=apache2", "--cache-dir", "/c", "t"});
  CHECK(cmd.template_name == "t");
  CHECK(cmd.debootstrap.suite == "trixie");
  CHECK(cmd.debootstrap.mirror == "http://m/debian");
  CHECK(cmd.debootstrap.include == std::vector<std::string>{"sysvinit-core", "cron", "apache2"});
  CHECK(cmd.debootstrap.cache_dir == "/c");

  CHECK_THAT(refusal({"template", "create", "--debootstrap", "bookworm"}),
             Catch::Contains("missing NAME"));
  CHECK_THAT(refusal({"template", "create", "t"}), Catch::Contains("missing --debootstrap"));
  CHECK_THAT(refusal({"template", "create", "t", "--debootstrap", "bookworm", "--include", "a,,b"}),
             Catch::Contains("empty package name"));
  CHECK_THAT(refusal({"template", "create", "t", "u", "--debootstrap", "bookworm"}),
             Catch::Contains("unexpected argument 'u'"));
}

TEST_CASE("ovzctl: set beancounters and CPU", "[ovzctl]") {
  auto cmd = parsed({"set", "101", "--numproc", "64:128", "--physpages=0:256M", "--cpuunits",
                     "2000", "--cpulimit", "25", "--cpus", "2", "--cpumask", "3,0-1", "--save"});
  REQUIRE(cmd.set.params.ubc.size() == 2);
  CHECK(cmd.set.params.ubc[0].first == ovz::ubc_resource::numproc);
  CHECK(cmd.set.params.ubc[0].second == ovz::ubc_value{64, 128});
  CHECK(cmd.set.params.ubc[1].second == ovz::ubc_value{0, 65536});
  CHECK(cmd.set.params.cpu.cpuunits == 2000u);
  CHECK(cmd.set.params.cpu.cpulimit == 25u);
  CHECK(cmd.set.params.cpu.cpus == 2u);
  CHECK(cmd.set.params.cpu.cpumask == "0-1,3");
  CHECK(cmd.set.save);

  CHECK_THAT(refusal({"set", "101", "--numproc", "10:5"}), Catch::Contains("below barrier"));
  CHECK_THAT(refusal({"set", "101", "--numproc", "-1"}), Catch::Contains("numproc"));
  CHECK_THAT(refusal({"set", "101", "--kmemsize", "12Q"}), Catch::Contains("12Q"));
  CHECK_THAT(refusal({"set", "101", "--cpuunits", "7"}), Catch::Contains("cpuunits"));
  CHECK_THAT(refusal({"set", "101", "--cpuunits", "lots"}), Catch::Contains("not a number"));
  CHECK_THAT(refusal({"set", "101", "--cpumask", "2-1"}), Catch::Contains("--cpumask"));
  CHECK_THAT(refusal({"set", "101", "--numbogus", "1"}), Catch::Contains("unknown option"));
}

TEST_CASE("ovzctl: ubc", "[ovzctl]") {
  auto all = parsed({"ubc"});
  CHECK(all.what == verb::ubc);
  CHECK_FALSE(all.id);
  auto one = parsed({"ubc", "101"});
  CHECK(one.id->value() == 101);
  CHECK_THAT(refusal({"ubc", "0"}), Catch::Contains("invalid CTID"));
}

TEST_CASE("ovzctl: set capabilities, device nodes, seccomp profile, no_new_privs", "[ovzctl]") {
  auto cmd = parsed({"set", "101", "--capability", "net_admin:on", "--capability=SYS_TIME:off",
                     "--devnodes", "net/tun:rw", "--seccomp_profile", "/etc/web.profile",
                     "--no_new_privs", "yes", "--save"});
  const auto& s = cmd.set.security;
  CHECK(s.capabilities == std::vector<ovz::capability_setting>{{"net_admin", true}, {"sys_time", false}});
  CHECK(s.devnodes == std::vector<ovz::devnode_grant>{{"net/tun", ovz::device_access::read_write}});
  CHECK(s.seccomp_profile == "/etc/web.profile");
  CHECK(s.no_new_privs == true);
  CHECK_FALSE(cmd.set.empty());

  CHECK_THAT(refusal({"set", "101", "--capability", "bogus:on"}),
             Catch::Contains("--capability: CAPABILITY: unknown capability \"bogus:on\""));
  CHECK_THAT(refusal({"set", "101", "--devnodes", "sda"}), Catch::Contains("--devnodes"));
  CHECK_THAT(refusal({"set", "101", "--seccomp_profile", "web"}), Catch::Contains("absolute path"));
  CHECK_THAT(refusal({"set", "101", "--no_new_privs", "on"}), Catch::Contains("yes or no"));
}

TEST_CASE("ovzctl: create and set disk quota options, quota", "[ovzctl][disk]") {
  auto cmd = parsed({"create", "101", "--diskspace", "1G:1100M", "--diskinodes=200000:220000",
                     "--quotatime", "600"});
  CHECK(cmd.create.disk.diskspace == ovz::disk_limit{1048576, 1126400});
  CHECK(cmd.create.disk.diskinodes == ovz::disk_limit{200000, 220000});
  CHECK(cmd.create.disk.quotatime == 600u);
  CHECK_FALSE(cmd.create.disk.quotaugidlimit);
  CHECK(parsed({"create", "101"}).create.disk == ovz::disk_params{});
  CHECK(parsed({"create", "101", "--quotaugidlimit", "0"}).create.disk.quotaugidlimit == 0u);
  CHECK_THAT(refusal({"create", "101", "--diskspace", "2G:1G"}),
             Catch::StartsWith("create: --diskspace: ") && Catch::Contains("above hard limit"));
  CHECK_THAT(refusal({"create", "101", "--diskspace", "1M"}), Catch::Contains("below the minimum"));
  CHECK_THAT(refusal({"create", "101", "--diskinodes", "1K"}), Catch::Contains("unknown suffix"));
  CHECK_THAT(refusal({"create", "101", "--quotatime", "1h"}), Catch::Contains("not a number"));
  CHECK_THAT(refusal({"create", "101", "--diskspace"}), Catch::Contains("needs a value"));

  cmd = parsed({"set", "101", "--diskspace", "2G", "--diskinodes", "300000:330000",
                "--quotatime=60", "--quotaugidlimit", "0", "--save"});
  CHECK(cmd.set.params.disk.diskspace == ovz::disk_limit{2097152, 2097152});
  CHECK(cmd.set.params.disk.diskinodes == ovz::disk_limit{300000, 330000});
  CHECK(cmd.set.params.disk.quotatime == 60u);
  CHECK(cmd.set.params.disk.quotaugidlimit == 0u);
  CHECK(cmd.set.save);
  CHECK(cmd.set.has_params());
  CHECK(parsed({"set", "101", "--quotatime", "0"}).set.has_params());
  CHECK_THAT(refusal({"set", "101", "--diskspace", "unlimited"}),
             Catch::StartsWith("set: --diskspace: "));
  CHECK_THAT(refusal({"set", "101", "--quotaugidlimit", "x"}), Catch::Contains("not a number"));

  cmd = parsed({"quota", "101"});
  CHECK(cmd.what == verb::quota);
  CHECK(cmd.id->value() == 101);
  CHECK_THAT(refusal({"quota"}), Catch::Contains("missing CTID"));
  CHECK_THAT(refusal({"quota", "101", "-v"}), Catch::Contains("unknown option '-v'"));
  CHECK_THAT(std::string(ovzctl::usage()),
             Catch::Contains("quota CTID") && Catch::Contains("--diskspace"));

  // The second level: the table, and vzquota setlimit2's job.
  CHECK(parsed({"quota", "101", "--ugid"}).ugid_table);
  cmd = parsed({"quota", "101", "--user", "1000", "--blocks", "1M:2M"});
  CHECK(cmd.ugid_owner == ovz::quota_ugid{.type = ovz::quota_ugid::kind::user, .id = 1000});
  CHECK(cmd.ugid_blocks == ovz::disk_limit{1024, 2048});
  CHECK_FALSE(cmd.ugid_inodes);
  cmd = parsed({"quota", "101", "--group=33", "--inodes", "100"});
  CHECK(cmd.ugid_owner == ovz::quota_ugid{.type = ovz::quota_ugid::kind::group, .id = 33});
  CHECK(cmd.ugid_inodes == ovz::disk_limit{100, 100});
  CHECK(parsed({"quota", "101", "--user", "1000", "--blocks", "0"}).ugid_blocks ==
        ovz::disk_limit{});
  CHECK_THAT(refusal({"quota", "101", "--user", "1000"}), Catch::Contains("need --blocks"));
  CHECK_THAT(refusal({"quota", "101", "--blocks", "1M"}), Catch::Contains("--user or a --group"));
  CHECK_THAT(refusal({"quota", "101", "--user", "x", "--blocks", "1M"}),
             Catch::Contains("not a numeric"));
  CHECK_THAT(refusal({"quota", "101", "--user", "1", "--group", "2", "--blocks", "1M"}),
             Catch::Contains("one --user or --group"));
  CHECK_THAT(refusal({"quota", "101", "--user", "1", "--inodes", "2:1"}),
             Catch::StartsWith("quota: --inodes: "));
}
