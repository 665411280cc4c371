#include <ovz/config.hpp>
#include <ovz/seccomp.hpp>
#include <ovz/security.hpp>

#include "support/temp_root.hpp"

#include <catch2/catch.hpp>

using ovz::capability_setting;
using ovz::device_access;
using ovz::devnode_grant;
using ovz::errc;
using ovz::ve_config;

namespace {

ve_config config(const std::string& text) { return MUST(ve_config::parse(text)); }

std::string refusal(const std::string& text) {
  INFO(text);
  auto r = ovz::security_from_config(config(text));
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::bad_config));
  return r.error().message();
}

}  // namespace

TEST_CASE("security_from_config reads OpenVZ's keys", "[security]") {
  auto s = MUST(ovz::security_from_config(config("CAPABILITY=\"CAP_NET_ADMIN:on sys_time:off\"\n"
                                                 "DEVNODES=\"net/tun:rw loop0:r sdb:none\"\n"
                                                 "SECCOMP_PROFILE=\"/etc/ovz/web.profile\"\n"
                                                 "NO_NEW_PRIVS=\"yes\"\n")));
  CHECK(s.capabilities == std::vector<capability_setting>{{"net_admin", true}, {"sys_time", false}});
  CHECK(s.devnodes == std::vector<devnode_grant>{{"net/tun", device_access::read_write},
                                                 {"loop0", device_access::read}});
  CHECK(s.seccomp_profile == "/etc/ovz/web.profile");
  CHECK(s.no_new_privs);

  auto none = MUST(ovz::security_from_config(config("SECCOMP_PROFILE=default\n")));
  CHECK(none.capabilities.empty());
  CHECK(none.devnodes.empty());
  CHECK(none.seccomp_profile.empty());
  CHECK_FALSE(none.no_new_privs);
}

TEST_CASE("bad security keys are refused naming the key and the word", "[security]") {
  CHECK_THAT(refusal("CAPABILITY=\"net_admin:on bogus:off\""), Catch::Contains("\"bogus:off\""));
  CHECK_THAT(refusal("CAPABILITY=\"net_admin:maybe\""), Catch::Contains("NAME:on or NAME:off"));
  CHECK_THAT(refusal("DEVNODES=\"../sda:rw\""), Catch::Contains("not a plain path"));
  CHECK_THAT(refusal("DEVNODES=\"/dev/sda:rw\""), Catch::Contains("without \"/dev/\""));
  CHECK_THAT(refusal("DEVNODES=\"null:r\""), Catch::Contains("every VE has"));
  CHECK_THAT(refusal("DEVNODES=\"pts/0:rw\""), Catch::Contains("every VE has"));
  CHECK_THAT(refusal("DEVNODES=\"sda:x\""), Catch::Contains("NAME:r, :w, :rw or :none"));
  CHECK_THAT(refusal("SECCOMP_PROFILE=\"relative.profile\""), Catch::Contains("absolute path"));
  CHECK_THAT(refusal("NO_NEW_PRIVS=\"1\""), Catch::Contains("yes or no"));
}

TEST_CASE("security settings write back to the keys they came from", "[security]") {
  auto conf = config("HOSTNAME=\"web\"\nDEVNODES=\"sda:rw\"\n");
  ovz::ve_security s;
  s.capabilities = {{"net_admin", true}};
  s.seccomp_profile = "unconfined";
  MUST(ovz::security_to_config(s, conf));
  CHECK(conf.get("CAPABILITY") == "net_admin:on");
  CHECK_FALSE(conf.get("DEVNODES"));  // the default removes its key
  CHECK(conf.get("SECCOMP_PROFILE") == "unconfined");
  CHECK_FALSE(conf.get("NO_NEW_PRIVS"));
  CHECK(MUST(ovz::security_from_config(conf)).capabilities == s.capabilities);
}

TEST_CASE("changes merge by name and are all checked first", "[security]") {
  ovz::ve_security s;
  s.capabilities = {{"net_admin", true}};
  s.devnodes = {{"loop0", device_access::read}};
  ovz::security_changes c;
  c.capabilities = {{"CAP_NET_ADMIN", false}, {"sys_time", true}};
  c.devnodes = {{"loop0", device_access::none}, {"net/tun", device_access::read_write}};
  c.no_new_privs = true;
  auto merged = MUST(ovz::with_changes(s, c));
  CHECK(merged.capabilities == std::vector<capability_setting>{{"net_admin", false}, {"sys_time", true}});
  CHECK(merged.devnodes == std::vector<devnode_grant>{{"net/tun", device_access::read_write}});
  CHECK(merged.no_new_privs);

  ovz::security_changes bad;
  bad.capabilities = {{"net_admin on", true}};
  CHECK(ovz::with_changes(s, bad).error().is(errc::invalid_argument));
  bad = {};
  bad.devnodes = {{"../../etc", device_access::read}};
  CHECK(ovz::with_changes(s, bad).error().is(errc::invalid_argument));
  bad = {};
  bad.seccomp_profile = "web.profile";
  CHECK_FALSE(ovz::with_changes(s, bad));
}

TEST_CASE("seccomp profiles parse, print and parse back", "[seccomp]") {
  auto p = MUST(ovz::seccomp_profile::parse("# web servers\n"
                                            "default errno:ENOSYS\n"
                                            "allow read write exit_group  # the basics\n"
                                            "kill kexec_load\n"
                                            "errno:13 mkdir\n"));
  CHECK(p.default_action == ovz::seccomp_action::errno_return);
  CHECK(p.default_errno == ENOSYS);
  REQUIRE(p.rules.size() == 3);
  CHECK(p.rules[0].syscalls == std::vector<std::string>{"read", "write", "exit_group"});
  CHECK(p.rules[2].errno_value == EACCES);
  auto again = MUST(ovz::seccomp_profile::parse(p.to_text()));
  CHECK(again.to_text() == p.to_text());
  CHECK_THAT(p.to_text(), Catch::Contains("errno:EACCES mkdir"));

  auto def = ovz::default_seccomp_profile();
  CHECK(MUST(ovz::seccomp_profile::parse(def.to_text())).to_text() == def.to_text());
  CHECK_THAT(def.to_text(), Catch::Contains("init_module") && Catch::Contains("open_by_handle_at"));
}

TEST_CASE("seccomp rules hold on conditions of arguments, and on more architectures", "[seccomp]") {
  auto p = MUST(ovz::seccomp_profile::parse("default errno:EPERM\n"
                                            "allow personality if 0==0 \n"
                                            "allow clone if 0&0x7e020000==0\n"
                                            "errno:EACCES fchmodat if 2>=0x1ff 1!=5\n"
                                            "arch x86 x32\n"));
  REQUIRE(p.rules.size() == 3);
  CHECK(p.rules[0].args == std::vector<ovz::seccomp_arg>{{0, ovz::seccomp_compare::eq, 0, 0}});
  CHECK(p.rules[1].args ==
        std::vector<ovz::seccomp_arg>{{0, ovz::seccomp_compare::masked_eq, 0, 0x7e020000}});
  CHECK(p.rules[2].args.size() == 2);
  CHECK(p.rules[2].args[0].op == ovz::seccomp_compare::ge);
  CHECK(p.rules[2].args[0].value == 0x1ff);
  CHECK(p.architectures == std::vector<std::string>{"x86", "x32"});
  CHECK(MUST(ovz::seccomp_profile::parse(p.to_text())).to_text() == p.to_text());
  CHECK_THAT(p.to_text(), Catch::Contains("allow clone if 0&0x7e020000==0\n"));
  CHECK_THAT(p.to_text(), Catch::Contains("errno:EACCES fchmodat if 2>=511 1!=5\n"));
  CHECK_THAT(p.to_text(), Catch::Contains("arch x86 x32\n"));
}

TEST_CASE("bad seccomp profiles are refused with the line and the word", "[seccomp]") {
  auto refused = [](const char* text) {
    auto r = ovz::seccomp_profile::parse(text, "web.profile");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::bad_config));
    return r.error().message();
  };
  CHECK_THAT(refused("allow read\nallow no_such_call\n"),
             Catch::Contains("web.profile: line 2: unknown system call \"no_such_call\""));
  CHECK_THAT(refused("deny read"), Catch::Contains("unknown action \"deny\""));
  CHECK_THAT(refused("errno:EWHAT read"), Catch::Contains("unknown action \"errno:EWHAT\""));
  CHECK_THAT(refused("kill"), Catch::Contains("no system call after \"kill\""));
  CHECK_THAT(refused("default"), Catch::Contains("no action after"));
  CHECK_THAT(refused("default allow kill"), Catch::Contains("more than one default"));
  CHECK_THAT(refused("allow clone if 7==1"), Catch::Contains("bad condition \"7==1\""));
  CHECK_THAT(refused("allow clone if 0=1"), Catch::Contains("bad condition \"0=1\""));
  CHECK_THAT(refused("allow clone if"), Catch::Contains("no condition after"));
  CHECK_THAT(refused("arch vax"), Catch::Contains("unknown architecture \"vax\""));
  // A file that is no profile (/etc/shadow) is not copied into the message.
  const auto shadow = refused("root:$6$salt$hash:20228:0:99999:7:::\n");
  CHECK_THAT(shadow, Catch::Contains("line 1: unknown action a word of 36 bytes that is no name"));
  CHECK_THAT(shadow, !Catch::Contains("salt"));
}
