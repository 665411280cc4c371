#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ovz/config.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/temp_root.hpp"

namespace fs = std::filesystem;
using ovz::errc;
using ovz::ve_config;

namespace {

// After OpenVZ's ve-basic.conf-sample, with the variations people write by hand.
const std::string sample =
    "# Copyright (C) 2000-2011, Parallels, Inc. All rights reserved.\n"
    "#\n"
    "# This program is free software; you can redistribute it and/or modify\n"
    "#\n"
    "\n"
    "ONBOOT=\"yes\"\n"
    "\n"
    "# RAM\n"
    "PHYSPAGES=\"0:256M\"\n"
    "\n"
    "# Swap\n"
    "SWAPPAGES=\"0:512M\"\n"
    "\n"
    "# Disk quota parameters (in form of softlimit:hardlimit)\n"
    "DISKSPACE=\"2G:2.2G\"\n"
    "DISKINODES=\"131072:144179\"\n"
    "QUOTATIME=\"0\"\n"
    "\n"
    "# CPU fair scheduler parameter\n"
    "CPUUNITS=\"1000\"\n"
    "VE_ROOT=\"/vz/root/$VEID\"\n"
    "VE_PRIVATE=\"/vz/private/$VEID\"\n"
    "OSTEMPLATE=\"centos-7-x86_64\"\n"
    "ORIGIN_SAMPLE=\"vswap-256m\"\n"
    "HOSTNAME=\"ct101.example.com\"\n"
    "IP_ADDRESS=\"10.0.0.101 10.0.0.102\"\n"
    "NAMESERVER=\"8.8.8.8\"\n"
    "export DESCRIPTION='web server, \"blue\" \\o/'\n"
    "NETFILTER=stateless   # trailing comment\n"
    "  \t# indented comment\n"
    "\t  \n"
    "DISABLED=\n"
    "FEATURES=\"\"  \n";

// Replaces the one occurrence of `from` in `text`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> dir_entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void check_bad_config(const std::string& text, const std::string& message) {
  INFO(text);
  auto r = ve_config::parse(text);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::bad_config));
  CHECK(r.error().message() == message);
}

}  // namespace

TEST_CASE("ve_config round-trips a file byte for byte", "[config]") {
  CHECK(MUST(ve_config::parse(sample)).serialize() == sample);

  for (const std::string text :
       {"", "\n", "\n\n\n", "# only a comment", "A=1", "A=1\nB=2", "A=1\n\n", "  \n\t\n"}) {
    INFO('"' << text << '"');
    CHECK(MUST(ve_config::parse(text)).serialize() == text);
  }
}

TEST_CASE("ve_config reads values as the shell would assign them", "[config]") {
  auto cfg = MUST(ve_config::parse(sample));
  CHECK(cfg.get("ONBOOT") == "yes");
  CHECK(cfg.get("PHYSPAGES") == "0:256M");
  CHECK(cfg.get("OSTEMPLATE") == "centos-7-x86_64");
  CHECK(cfg.get("HOSTNAME") == "ct101.example.com");
  CHECK(cfg.get("IP_ADDRESS") == "10.0.0.101 10.0.0.102");
  // Not expanded: vzctl does not, either.
  CHECK(cfg.get("VE_ROOT") == "/vz/root/$VEID");
  CHECK(cfg.get("DESCRIPTION") == "web server, \"blue\" \\o/");
  CHECK(cfg.get("NETFILTER") == "stateless");
  CHECK(cfg.get("DISABLED") == "");
  CHECK(cfg.get("FEATURES") == "");
  CHECK(cfg.get("MISSING") == std::nullopt);
  CHECK(cfg.get("hostname") == std::nullopt);
  CHECK(cfg.get("") == std::nullopt);
}

TEST_CASE("ve_config lists keys in file order", "[config]") {
  auto cfg = MUST(ve_config::parse(sample));
  CHECK(cfg.keys() == std::vector<std::string>{"ONBOOT", "PHYSPAGES", "SWAPPAGES", "DISKSPACE",
                                               "DISKINODES", "QUOTATIME", "CPUUNITS", "VE_ROOT",
                                               "VE_PRIVATE", "OSTEMPLATE", "ORIGIN_SAMPLE",
                                               "HOSTNAME", "IP_ADDRESS", "NAMESERVER",
                                               "DESCRIPTION", "NETFILTER", "DISABLED", "FEATURES"});
  CHECK(ve_config().keys().empty());
}

TEST_CASE("ve_config::set changes only the line of the key", "[config]") {
  auto cfg = MUST(ve_config::parse(sample));

  SECTION("a quoted value") {
    MUST(cfg.set("HOSTNAME", "ct102.example.com"));
    CHECK(cfg.get("HOSTNAME") == "ct102.example.com");
    CHECK(cfg.serialize() ==
          replaced(sample, "HOSTNAME=\"ct101.example.com\"\n", "HOSTNAME=\"ct102.example.com\"\n"));
  }
  SECTION("an unquoted value with a comment, an exported one, an empty one") {
    MUST(cfg.set("NETFILTER", "full"));
    MUST(cfg.set("DESCRIPTION", "db server"));
    MUST(cfg.set("DISABLED", "no"));
    std::string want =
        replaced(sample, "NETFILTER=stateless   # trailing comment\n", "NETFILTER=\"full\"\n");
    want = replaced(want, "export DESCRIPTION='web server, \"blue\" \\o/'\n",
                    "DESCRIPTION=\"db server\"\n");
    want = replaced(want, "DISABLED=\n", "DISABLED=\"no\"\n");
    CHECK(cfg.serialize() == want);
  }
  SECTION("to the value it has keeps the line as written") {
    MUST(cfg.set("NETFILTER", "stateless"));
    MUST(cfg.set("PHYSPAGES", "0:256M"));
    MUST(cfg.set("DISABLED", ""));
    CHECK(cfg.serialize() == sample);
  }
  SECTION("to values with spaces, $, quotes of the other kind, or nothing") {
    MUST(cfg.set("IP_ADDRESS", "10.0.0.1 10.0.0.2"));
    MUST(cfg.set("VE_ROOT", "/vz/root/$VEID/x"));
    MUST(cfg.set("ORIGIN_SAMPLE", "it's"));
    MUST(cfg.set("ONBOOT", ""));
    auto back = MUST(ve_config::parse(cfg.serialize()));
    CHECK(back.get("IP_ADDRESS") == "10.0.0.1 10.0.0.2");
    CHECK(back.get("VE_ROOT") == "/vz/root/$VEID/x");
    CHECK(back.get("ORIGIN_SAMPLE") == "it's");
    CHECK(back.get("ONBOOT") == "");
    CHECK(back.keys() == cfg.keys());
  }
}

TEST_CASE("ve_config::set appends a new key", "[config]") {
  SECTION("after the last line of a file") {
    auto cfg = MUST(ve_config::parse(sample));
    MUST(cfg.set("CPULIMIT", "50"));
    CHECK(cfg.get("CPULIMIT") == "50");
    CHECK(cfg.serialize() == sample + "CPULIMIT=\"50\"\n");
    CHECK(cfg.keys().back() == "CPULIMIT");
  }
  SECTION("after a last line without a newline") {
    auto cfg = MUST(ve_config::parse("ONBOOT=\"yes\""));
    MUST(cfg.set("CPULIMIT", "50"));
    CHECK(cfg.serialize() == "ONBOOT=\"yes\"\nCPULIMIT=\"50\"\n");
  }
  SECTION("after trailing blank lines, which stay where they are") {
    auto cfg = MUST(ve_config::parse("ONBOOT=\"yes\"\n\n"));
    MUST(cfg.set("CPULIMIT", "50"));
    CHECK(cfg.serialize() == "ONBOOT=\"yes\"\n\nCPULIMIT=\"50\"\n");
  }
  SECTION("to an empty config") {
    ve_config cfg;
    MUST(cfg.set("HOSTNAME", "ct101.example.com"));
    MUST(cfg.set("ONBOOT", "yes"));
    CHECK(cfg.serialize() == "HOSTNAME=\"ct101.example.com\"\nONBOOT=\"yes\"\n");
    CHECK(cfg.keys() == std::vector<std::string>{"HOSTNAME", "ONBOOT"});
  }
}

TEST_CASE("ve_config::set refuses bad keys and values and changes nothing", "[config]") {
  auto cfg = MUST(ve_config::parse(sample));

  for (const char* key : {"", "hostname", "HostName", "1KEY", "HOST-NAME", "HOST NAME",
                          "KEY=", "export HOSTNAME", "# X"}) {
    INFO('"' << key << '"');
    auto r = cfg.set(key, "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().message() ==
          std::string("Invalid config key \"") + key + "\": must match [A-Z_][A-Z0-9_]*");
  }
  for (const char* value : {"two\nlines", "say \"hi\"", "back\\slash", "\n", "\""}) {
    INFO('"' << value << '"');
    auto r = cfg.set("HOSTNAME", value);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().message() ==
          "Invalid value for HOSTNAME: must not contain a newline, a double quote or a "
          "backslash");
  }
  CHECK(cfg.serialize() == sample);

  MUST(cfg.set("_X9", "ok"));
  CHECK(cfg.get("_X9") == "ok");
}

TEST_CASE("ve_config::erase removes every line of a key", "[config]") {
  auto cfg = MUST(ve_config::parse(sample));
  CHECK(cfg.erase("PHYSPAGES"));
  CHECK(cfg.get("PHYSPAGES") == std::nullopt);
  CHECK(cfg.serialize() == replaced(sample, "PHYSPAGES=\"0:256M\"\n", ""));

  CHECK_FALSE(cfg.erase("PHYSPAGES"));
  CHECK_FALSE(cfg.erase("MISSING"));
  CHECK_FALSE(cfg.erase(""));
  CHECK(cfg.serialize() == replaced(sample, "PHYSPAGES=\"0:256M\"\n", ""));

  auto dup = MUST(ve_config::parse("# a\nA=1\nB=2\nA=3\n# b\n"));
  CHECK(dup.erase("A"));
  CHECK(dup.serialize() == "# a\nB=2\n# b\n");
}

TEST_CASE("ve_config treats a key given twice as the shell does", "[config]") {
  const std::string text = "HOSTNAME=\"first\"\n# x\nONBOOT=\"yes\"\nHOSTNAME='second'\n# y\n";
  auto cfg = MUST(ve_config::parse(text));

  CHECK(cfg.get("HOSTNAME") == "second");
  CHECK(cfg.keys() == std::vector<std::string>{"ONBOOT", "HOSTNAME"});
  CHECK(cfg.serialize() == text);

  SECTION("set replaces the last and removes the others") {
    MUST(cfg.set("HOSTNAME", "third"));
    CHECK(cfg.get("HOSTNAME") == "third");
    CHECK(cfg.serialize() == "# x\nONBOOT=\"yes\"\nHOSTNAME=\"third\"\n# y\n");
  }
  SECTION("set to the last value keeps that line and removes the others") {
    MUST(cfg.set("HOSTNAME", "second"));
    CHECK(cfg.serialize() == "# x\nONBOOT=\"yes\"\nHOSTNAME='second'\n# y\n");
  }
}

TEST_CASE("ve_config refuses malformed lines, naming the line", "[config]") {
  const std::string head = "# comment\n\nONBOOT=\"yes\"\n\n# RAM\nPHYSPAGES=\"0:256M\"\n";

  SECTION("unterminated quote") {
    check_bad_config(head + "HOSTNAME=\"abc\nOSTEMPLATE=\"centos-7-x86_64\"\n",
                     "CTID.conf line 7: unterminated quote in: HOSTNAME=\"abc");
    check_bad_config("HOSTNAME='abc\n", "CTID.conf line 1: unterminated quote in: HOSTNAME='abc");
    check_bad_config("DESCRIPTION=\"two\nlines\"\n",
                     "CTID.conf line 1: unterminated quote in: DESCRIPTION=\"two");
    check_bad_config("A='mixed\"", "CTID.conf line 1: unterminated quote in: A='mixed\"");
  }
  SECTION("no =") {
    check_bad_config(head + "HOSTNAME\n", "CTID.conf line 7: expected KEY=value in: HOSTNAME");
    check_bad_config("A=1\nexport\n", "CTID.conf line 2: expected KEY=value in: export");
    check_bad_config("A=1\nB=2\nnot a setting\n",
                     "CTID.conf line 3: expected KEY=value in: not a setting");
  }
  SECTION("bad key") {
    const std::string why = ": invalid key (must match [A-Z_][A-Z0-9_]*) in: ";
    for (const std::string line : {"hostname=\"x\"", "1X=\"a\"", "HOST-NAME=\"x\"",
                                   "HOSTNAME =\"x\"", "=\"x\"", "A B=c", "export=1"}) {
      check_bad_config(head + line + "\n", "CTID.conf line 7" + why + line);
    }
  }
  SECTION("text after the value") {
    const std::string why = ": unexpected text after the value in: ";
    for (const std::string line : {"HOSTNAME=\"a\"b", "HOSTNAME=\"a\" b", "HOSTNAME='a'\"b\"",
                                   "A=b c", "A= b", "A=\"b\";", "A=\"b\" && reboot"}) {
      check_bad_config(head + line + "\n", "CTID.conf line 7" + why + line);
    }
  }
  SECTION("quote inside an unquoted value") {
    check_bad_config(head + "A=b\"c\"\n",
                     "CTID.conf line 7: quote inside an unquoted value in: A=b\"c\"");
    check_bad_config("A=it's\n", "CTID.conf line 1: quote inside an unquoted value in: A=it's");
  }
  SECTION("the message names the file given as origin") {
    auto r = ve_config::parse("A=1\nB=\"2\n", "/var/lib/ovz/conf/101.conf");
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "/var/lib/ovz/conf/101.conf line 2: unterminated quote in: B=\"2");
  }
}

TEST_CASE("ve_config accepts what a shell would", "[config]") {
  auto cfg =
      MUST(ve_config::parse("  A=\"1\"\n"
                            "export B=2\n"
                            "export\tC='3' # c\n"
                            "D=\"4\"\t\n"
                            "E=a#b\n"
                            "F=\"x\"#y\n"
                            "_G9=\n"));
  CHECK(cfg.get("A") == "1");
  CHECK(cfg.get("B") == "2");
  CHECK(cfg.get("C") == "3");
  CHECK(cfg.get("D") == "4");
  CHECK(cfg.get("E") == "a#b");
  CHECK(cfg.get("F") == "x");
  CHECK(cfg.get("_G9") == "");
}

TEST_CASE("ve_config saves and loads a file", "[config]") {
  ovz::test::temp_dir dir;
  const fs::path file = dir.path / "101.conf";

  auto cfg = MUST(ve_config::parse(sample));
  MUST(cfg.save(file));
  CHECK(read_file(file) == sample);
  CHECK(dir_entries(dir.path) == std::vector<std::string>{"101.conf"});

  auto loaded = MUST(ve_config::load(file));
  CHECK(loaded.serialize() == sample);
  CHECK(loaded.get("HOSTNAME") == "ct101.example.com");

  SECTION("saving over a file replaces it and keeps its mode") {
    REQUIRE(::chmod(file.c_str(), 0640) == 0);
    MUST(loaded.set("HOSTNAME", "ct102.example.com"));
    MUST(loaded.save(file));
    CHECK(MUST(ve_config::load(file)).get("HOSTNAME") == "ct102.example.com");
    CHECK(read_file(file) == loaded.serialize());
    struct stat st;
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"101.conf"});
  }
  SECTION("a relative path saves in the working directory") {
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path);
    auto saved = cfg.save("102.conf");
    fs::current_path(cwd);
    MUST(std::move(saved));
    CHECK(read_file(dir.path / "102.conf") == sample);
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"101.conf", "102.conf"});
  }
}

TEST_CASE("ve_config::save into a missing directory fails and leaves nothing", "[config]") {
  ovz::test::temp_dir dir;
  auto cfg = MUST(ve_config::parse(sample));
  const fs::path file = dir.path / "missing" / "101.conf";
  auto r = cfg.save(file);
  REQUIRE_FALSE(r);
  CHECK(r.error().sys_errno() == ENOENT);
  CHECK(r.error().message().starts_with("Cannot save " + file.string() + ": "));
  CHECK(dir_entries(dir.path).empty());
}

TEST_CASE("ve_config::load reports a missing or malformed file by its path", "[config]") {
  ovz::test::temp_dir dir;
  const fs::path missing = dir.path / "404.conf";
  auto r = ve_config::load(missing);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == std::error_code(ENOENT, std::system_category()));
  CHECK(r.error().sys_errno() == ENOENT);
  CHECK(r.error().message() ==
        "Cannot read CTID.conf: open " + missing.string() + ": No such file or directory");

  const fs::path bad = dir.path / "101.conf";
  std::ofstream(bad) << "ONBOOT=\"yes\"\nHOSTNAME=\"abc\n";
  auto b = ve_config::load(bad);
  REQUIRE_FALSE(b);
  CHECK(b.error().is(errc::bad_config));
  CHECK(b.error().message() == bad.string() + " line 2: unterminated quote in: HOSTNAME=\"abc");
}
