// The VE's /etc files the host keeps in line with CTID.conf (model/etc_files.hpp), and the
// account files of --userpasswd (model/accounts.hpp): text in, text out.
#include "model/accounts.hpp"
#include "model/etc_files.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace ovz::detail;

namespace {

const std::string marker(hosts_marker);

}  // namespace

TEST_CASE("hosts: localhost kept, the VE's name after it, the user's lines as they were",
          "[etc]") {
  const std::string debian =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
      "192.0.2.7 gw # the user's\n";
  const auto once = hosts_with_hostname(debian, "web1.example.com", "10.0.0.2");
  CHECK(once == "127.0.0.1\tlocalhost\n" + marker + "\n10.0.0.2\tweb1.example.com web1\n"
                "::1\tlocalhost ip6-localhost ip6-loopback\n192.0.2.7 gw # the user's\n");
  // A new name replaces the line, where it was, and nothing doubles.
  const auto twice = hosts_with_hostname(once, "db", "127.0.1.1");
  CHECK(twice == "127.0.0.1\tlocalhost\n" + marker + "\n127.0.1.1\tdb\n"
                 "::1\tlocalhost ip6-localhost ip6-loopback\n192.0.2.7 gw # the user's\n");
  CHECK(hosts_with_hostname(twice, "db", "127.0.1.1") == twice);
  // A line moved by the user keeps its place.
  const std::string moved = "# mine\n127.0.0.1 localhost\n10.1.1.1 other\n" + marker +
                            "\n127.0.1.1\told\n";
  CHECK(hosts_with_hostname(moved, "new.example.org", "127.0.1.1") ==
        "# mine\n127.0.0.1 localhost\n10.1.1.1 other\n" + marker +
            "\n127.0.1.1\tnew.example.org new\n");
}

TEST_CASE("hosts: an empty file gets localhost; localhost names get no line of their own",
          "[etc]") {
  CHECK(hosts_with_hostname("", "ct101", "127.0.1.1") ==
        "127.0.0.1\tlocalhost\n" + marker + "\n127.0.1.1\tct101\n");
  CHECK(hosts_with_hostname("", "localhost", "127.0.1.1") == "127.0.0.1\tlocalhost\n");
  CHECK(hosts_with_hostname("127.0.0.1 localhost.localdomain localhost\n" + marker +
                                "\n127.0.1.1\told\n",
                            "localhost.localdomain", "127.0.1.1") ==
        "127.0.0.1 localhost.localdomain localhost\n");
  CHECK(hostname_file("web1.example.com") == "web1.example.com\n");
}

TEST_CASE("resolv.conf: nameserver and search lines replaced, the rest kept", "[etc]") {
  const std::string host = "# from the host\ndomain old.example\nnameserver 10.0.0.1\n"
                           "options ndots:2\nnameserver 10.0.0.2\n";
  CHECK(resolv_conf_with(host, std::vector<std::string>{"192.0.2.53", "2001:db8::53"},
                         std::vector<std::string>{"example.com", "example.org"}) ==
        "# from the host\nsearch example.com example.org\noptions ndots:2\n"
        "nameserver 192.0.2.53\nnameserver 2001:db8::53\n");
  // Only what is set is touched.
  CHECK(resolv_conf_with(host, std::nullopt, std::vector<std::string>{"a.example"}) ==
        "# from the host\nsearch a.example\nnameserver 10.0.0.1\noptions ndots:2\n"
        "nameserver 10.0.0.2\n");
  CHECK(resolv_conf_with(host, std::vector<std::string>{"192.0.2.1"}, std::nullopt) ==
        "# from the host\ndomain old.example\noptions ndots:2\nnameserver 192.0.2.1\n");
  CHECK(resolv_conf_with("", std::vector<std::string>{"192.0.2.1"}, std::vector<std::string>{}) ==
        "nameserver 192.0.2.1\n");
}

TEST_CASE("inherit takes the host's servers but its loopback stub, and its search list",
          "[etc]") {
  const std::string host = "nameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.9\n"
                           "search a.example b.example\nnameserver fd00::53\nnameserver bogus\n";
  CHECK(resolv_nameservers(host) == std::vector<std::string>{"192.0.2.9", "fd00::53"});
  CHECK(resolv_search(host) == std::vector<std::string>{"a.example", "b.example"});
  CHECK(resolv_search("domain corp.example\n") == std::vector<std::string>{"corp.example"});
}

TEST_CASE("name servers and search domains are checked", "[etc]") {
  using list = std::vector<std::string>;
  CHECK(check_nameservers(list{"192.0.2.1", "2001:db8::1"}));
  CHECK(check_nameservers(list{"inherit"}));
  CHECK_FALSE(check_searchdomains(list{"example.com", "corp.example.", "_srv.example", "inherit"}));
  CHECK(check_searchdomains(list{"example.com", "corp.example.", "a-b.example"}));
  for (const auto& bad : {list{"1.2.3"}, list{"10.0.0.1/24"}, list{"inherit", "10.0.0.1"},
                          list{"name.example"}, list{""}}) {
    auto r = check_nameservers(bad);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::StartsWith("nameserver: "));
  }
  for (const auto& bad : {list{"-x.example"}, list{"a..b"}, list{"a b"}, list{""},
                          list{std::string(254, 'a')}, list{"x;rm"}, list{"inherit", "a"}}) {
    auto r = check_searchdomains(bad);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::StartsWith("searchdomain: "));
  }
}

TEST_CASE("userpasswd: an existing user's hash is replaced in shadow", "[accounts]") {
  account_files f{"root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/sh\n",
                  "root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\n", "root:x:0:\nbob:x:1000:\n",
                  std::nullopt};
  auto e = with_password(f, "bob", "$y$hash", 20000);
  REQUIRE(e);
  CHECK_FALSE(e->added);
  CHECK(e->files.passwd == f.passwd);
  CHECK(e->files.group == f.group);
  CHECK(*e->files.shadow == "root:*:19000:0:99999:7:::\nbob:$y$hash:20000:0:99999:7:::\n");
}

TEST_CASE("userpasswd: a missing user is added as useradd -m would", "[accounts]") {
  account_files f{"root:x:0:0:root:/root:/bin/bash\nu:x:1000:1000::/home/u:/bin/sh\n",
                  "root:*:19000:0:99999:7:::\n", "root:x:0:\nu:x:1000:\nstaff:x:1001:\n",
                  "root:*::\n"};
  auto e = with_password(f, "alice", "$y$h", 20000);
  REQUIRE(e);
  REQUIRE(e->added);
  // uid 1001 is free; gid 1001 is staff's, so the group gets the next free one.
  CHECK(e->added->uid == 1001);
  CHECK(e->added->gid == 1002);
  CHECK(e->added->home == "/home/alice");
  CHECK(e->files.passwd == f.passwd + "alice:x:1001:1002::/home/alice:/bin/sh\n");
  CHECK(e->files.group == f.group + "alice:x:1002:\n");
  CHECK(*e->files.gshadow == "root:*::\nalice:!::\n");
  CHECK(*e->files.shadow == "root:*:19000:0:99999:7:::\nalice:$y$h:20000:0:99999:7:::\n");
}

TEST_CASE("userpasswd: without shadow the hash goes into passwd", "[accounts]") {
  account_files f{"root:x:0:0:root:/root:/bin/sh", std::nullopt, "root:x:0:", std::nullopt};
  auto e = with_password(f, "root", "$y$h", 1);
  REQUIRE(e);
  CHECK(e->files.passwd == "root:$y$h:0:0:root:/root:/bin/sh\n");
}

TEST_CASE("userpasswd: user names and passwords are checked", "[accounts]") {
  CHECK(check_user_name("www-data"));
  CHECK(check_user_name("_svc"));
  CHECK(check_user_name("machine$"));
  for (std::string bad : {std::string(), std::string("Root"), std::string("-x"),
                          std::string("1abc"), std::string("a:b"), std::string("a b"),
                          std::string("a\nb"), std::string("a$b"), std::string(33, 'a'),
                          std::string("../etc")})
    CHECK_FALSE(check_user_name(bad));
  CHECK(check_password("pa:ss word"));
  for (std::string bad : {std::string(), std::string("a\nb"), std::string("a\rb"),
                          std::string("a\0b", 3)})
    CHECK_FALSE(check_password(bad));
}
