#include <ovz/template.hpp>

#include <catch2/catch.hpp>
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <fmt/format.h>

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstdint>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Everything in <root>/template, hidden staging directories included.
std::vector<std::string> template_dir_entries(const fs::path& root) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "template", ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> listed_names(const ovz::template_store& store) {
  std::vector<std::string> names;
  for (const auto& t : MUST(store.list())) names.push_back(t.name);
  return names;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Packs a directory with the system tar; the flag picks the compression.
void pack(const fs::path& dir, const fs::path& tarball, const char* flag) {
  std::string cmd =
      fmt::format("tar --numeric-owner -C '{}' -c{}f '{}' .", dir.string(), flag, tarball.string());
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// A private state root with the busybox template built and a scratch directory for tarballs.
struct import_bench {
  ovz::test::temp_root root;
  ovz::template_store store{root.path()};
  ovz::template_info bb = MUST(store.find("busybox"));
  fs::path work = root.path() / "work";
  import_bench() { fs::create_directories(work); }
};

}  // namespace

TEST_CASE("the busybox template is built on first find and then reused", "[template]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  ovz::template_store store(root.path());

  auto before = MUST(store.list());
  REQUIRE(before.size() == 1);
  CHECK(before[0].name == "busybox");
  CHECK(before[0].builtin);
  CHECK(before[0].path == root.path() / "template" / "busybox");
  CHECK_FALSE(fs::exists(before[0].path));

  auto t = MUST(store.find("busybox"));
  CHECK(t.name == "busybox");
  CHECK(t.builtin);
  REQUIRE(t.path == root.path() / "template" / "busybox");

  CHECK(fs::is_regular_file(fs::symlink_status(t.path / "bin/busybox")));
  CHECK(mode_of(t.path / "bin/busybox") == 0755);
  for (const char* applet : {"bin/sh", "sbin/init", "usr/bin/env", "bin/ls"}) {
    INFO(applet);
    CHECK(fs::read_symlink(t.path / applet) == "/bin/busybox");
  }
  CHECK(mode_of(t.path) == 0755);
  CHECK(mode_of(t.path.parent_path()) == 0700);
  CHECK(mode_of(t.path / "tmp") == 01777);
  CHECK(mode_of(t.path / "root") == 0700);
  for (const char* d : {"dev", "proc", "sys", "run", "var/log", "etc", "home", "usr/sbin"}) {
    INFO(d);
    CHECK(fs::is_directory(t.path / d));
    CHECK(mode_of(t.path / d) == 0755);
  }
  CHECK(mode_of(t.path / "etc/shadow") == 0600);
  CHECK(ovz::test::read_text(t.path / "etc/passwd").starts_with("root:x:0:0:root:/root:/bin/sh\n"));
  CHECK(ovz::test::read_text(t.path / "etc/passwd").find("\nnobody:") != std::string::npos);
  CHECK(fs::is_regular_file(t.path / "etc/group"));
  CHECK(fs::is_regular_file(t.path / "etc/hosts"));
  CHECK(fs::is_regular_file(t.path / "etc/hostname"));
  CHECK(ovz::test::read_text(t.path / "etc/profile").find("PATH=") != std::string::npos);

  // Entries for no tty and only run-once actions: init has nothing to respawn.
  std::vector<std::string> entries;
  std::istringstream inittab(ovz::test::read_text(t.path / "etc/inittab"));
  for (std::string line; std::getline(inittab, line);) {
    if (!line.empty() && line[0] != '#') entries.push_back(line);
  }
  CHECK(std::find(entries.begin(), entries.end(), "::sysinit:/etc/init.d/rcS") != entries.end());
  for (const auto& e : entries) {
    INFO(e);
    CHECK((e.starts_with("::sysinit:") || e.starts_with("::shutdown:")));
  }
  CHECK(mode_of(t.path / "etc/init.d/rcS") == 0755);
  CHECK(ovz::test::read_text(t.path / "etc/init.d/rcS").starts_with("#!/bin/sh\n"));
  CHECK(std::system((t.path / "etc/init.d/rcS").c_str()) == 0);

  // No staging directory is left behind.
  CHECK(template_dir_entries(root.path()) == std::vector<std::string>{"busybox"});

  // A second find must not rebuild: a file added to the template survives it.
  { std::ofstream(t.path / "marker") << "kept"; }
  auto again = MUST(store.find("busybox"));
  CHECK(again.path == t.path);
  CHECK(ovz::test::read_text(again.path / "marker") == "kept");

  auto after = MUST(store.list());
  REQUIRE(after.size() == 1);
  CHECK(after[0].name == "busybox");
  CHECK(after[0].builtin);
  CHECK(after[0].path == t.path);
}

TEST_CASE("concurrent first finds of busybox agree on one template", "[template]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  ovz::template_store store(root.path());

  std::vector<ovz::result<ovz::template_info>> results(4, ovz::error({}, ""));
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&] { r = store.find("busybox"); });
  for (auto& th : threads) th.join();

  for (const auto& r : results) {
    REQUIRE(r.has_value());
    CHECK(r.value().path == root.path() / "template" / "busybox");
  }
  CHECK(template_dir_entries(root.path()) == std::vector<std::string>{"busybox"});
  CHECK(fs::read_symlink(root.path() / "template/busybox/bin/sh") == "/bin/busybox");
}

TEST_CASE("import unpacks root filesystem tarballs", "[template]") {
  ovz::test::require_root();
  import_bench bench;
  auto& [root, store, bb, work] = bench;

  pack(bb.path, work / "mini-1.0_x86.tar.gz", "z");
  pack(bb.path, work / "tiny.tar.xz", "J");
  fs::copy_file(work / "mini-1.0_x86.tar.gz", work / "gz-short.tgz");
  fs::copy_file(work / "tiny.tar.xz", work / "xz-short.txz");
  pack(bb.path, work / "plain.tar", "");

  auto gz = MUST(store.import(work / "mini-1.0_x86.tar.gz"));
  CHECK(gz.name == "mini-1.0_x86");
  CHECK_FALSE(gz.builtin);
  CHECK(gz.path == root.path() / "template" / "mini-1.0_x86");
  CHECK(fs::read_symlink(gz.path / "bin/sh") == "/bin/busybox");
  CHECK(fs::is_regular_file(gz.path / "bin/busybox"));
  CHECK(mode_of(gz.path / "tmp") == 01777);
  CHECK(mode_of(gz.path / "etc/shadow") == 0600);

  auto xz = MUST(store.import(work / "tiny.tar.xz"));
  CHECK(xz.name == "tiny");
  CHECK(fs::read_symlink(xz.path / "sbin/init") == "/bin/busybox");

  CHECK(MUST(store.import(work / "gz-short.tgz")).name == "gz-short");
  CHECK(MUST(store.import(work / "xz-short.txz")).name == "xz-short");
  CHECK(MUST(store.import(work / "plain.tar")).name == "plain");

  auto named = MUST(store.import(work / "tiny.tar.xz", "custom.name"));
  CHECK(named.name == "custom.name");
  CHECK(named.path == root.path() / "template" / "custom.name");

  auto found = MUST(store.find("tiny"));
  CHECK(found.path == xz.path);
  CHECK_FALSE(found.builtin);

  std::vector<std::string> expected{"busybox", "custom.name", "gz-short", "mini-1.0_x86",
                                    "plain",   "tiny",        "xz-short"};
  CHECK(listed_names(store) == expected);
  CHECK(template_dir_entries(root.path()) == expected);
  for (const auto& t : MUST(store.list())) CHECK(t.builtin == (t.name == "busybox"));
}

namespace {

// The raw value of an extended attribute; empty when the file has none.
std::string xattr_of(const fs::path& p, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

void set_xattr(const fs::path& p, const char* name, const void* value, size_t size) {
  INFO(p << " " << name);
  REQUIRE(::lsetxattr(p.c_str(), name, value, size, 0) == 0);
}

}  // namespace

TEST_CASE("import keeps file capabilities, ACLs and extended attributes", "[template]") {
  ovz::test::require_root();
  import_bench bench;
  auto& [root, store, bb, work] = bench;
  const fs::path tree = work / "tree";
  REQUIRE(std::system(fmt::format("cp -a '{}' '{}'", bb.path.string(), tree.string()).c_str()) == 0);

  // cap_net_raw=ep on a copy of busybox, as iputils-ping's postinst gives ping.
  fs::copy_file(tree / "bin/busybox", tree / "bin/ping-caps");
  vfs_cap_data cap{};
  cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  cap.data[0].permitted = 1u << CAP_NET_RAW;
  set_xattr(tree / "bin/ping-caps", "security.capability", &cap, XATTR_CAPS_SZ_2);
  // user 1234 may read etc/shadow: an access ACL (version 2; user::rw-, user:1234:r--,
  // group::---, mask::r--, other::---), in the order the kernel and libacl keep entries.
  const std::uint32_t acl[] = {2,      1 | (6u << 16), 0xffffffff, 2 | (4u << 16), 1234,
                               4 | (0u << 16), 0xffffffff, 0x10 | (4u << 16), 0xffffffff,
                               0x20 | (0u << 16), 0xffffffff};
  set_xattr(tree / "etc/shadow", "system.posix_acl_access", acl, sizeof acl);
  // tmpfs has user.* attributes only since Linux 6.6 (the lab's 6.1 /tmp has none).
  const bool user_xattrs = ::lsetxattr((tree / "etc/hosts").c_str(), "user.origin", "test", 4, 0) == 0;
  if (!user_xattrs) {
    REQUIRE(errno == EOPNOTSUPP);
    std::cout << "user.* xattrs unsupported on " << tree << ": that part is left out\n";
  }
  const std::string cap_before = xattr_of(tree / "bin/ping-caps", "security.capability");
  const std::string acl_before = xattr_of(tree / "etc/shadow", "system.posix_acl_access");
  REQUIRE_FALSE(acl_before.empty());

  const fs::path tarball = work / "caps.tar.gz";
  REQUIRE(std::system(fmt::format("tar --numeric-owner --xattrs --xattrs-include='*' --acls -C '{}' "
                                  "-czf '{}' .",
                                  tree.string(), tarball.string())
                          .c_str()) == 0);
  auto t = MUST(store.import(tarball));
  CHECK(xattr_of(t.path / "bin/ping-caps", "security.capability") == cap_before);
  CHECK(xattr_of(t.path / "etc/shadow", "system.posix_acl_access") == acl_before);
  if (user_xattrs) CHECK(xattr_of(t.path / "etc/hosts", "user.origin") == "test");
  CHECK(xattr_of(t.path / "bin/busybox", "security.capability").empty());
}

TEST_CASE("import resolves the root's own symlinks inside it", "[template]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  ovz::template_store store(root.path());
  fs::path work = root.path() / "work";

  // usrmerge layout with an absolute /bin link: the host's /usr/bin/sh must not count.
  fs::path hollow = work / "hollow";
  fs::create_directories(hollow / "usr/bin");
  fs::create_symlink("/usr/bin", hollow / "bin");
  pack(hollow, work / "hollow.tar.gz", "z");
  auto refused = store.import(work / "hollow.tar.gz");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(ovz::errc::invalid_argument));

  // Absolute links inside the root: /bin -> /usr/bin, /usr/bin/sh -> /opt/box/busybox.
  fs::path merged = work / "merged";
  fs::create_directories(merged / "usr/bin");
  fs::create_directories(merged / "opt/box");
  fs::copy_file("/bin/busybox", merged / "opt/box/busybox");
  fs::create_symlink("/usr/bin", merged / "bin");
  fs::create_symlink("/opt/box/busybox", merged / "usr/bin/sh");
  pack(merged, work / "merged.tar.gz", "z");
  auto t = MUST(store.import(work / "merged.tar.gz"));
  CHECK(fs::read_symlink(t.path / "usr/bin/sh") == "/opt/box/busybox");
  CHECK(template_dir_entries(root.path()) == std::vector<std::string>{"merged"});
}

TEST_CASE("import refuses a /bin/sh that is not a non-empty executable inside the root",
          "[template]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  ovz::template_store store(root.path());
  fs::path work = root.path() / "work";

  struct bad_sh {
    const char* name;
    std::function<void(const fs::path&)> make;  // makes bin/sh in the given root
    const char* why;
  };
  const std::vector<bad_sh> cases{
      {"dangling", [](const fs::path& r) { fs::create_symlink("/etc/shadow", r / "bin/sh"); },
       "has no /bin/sh"},
      {"to-shadow",
       [](const fs::path& r) {
         fs::create_directories(r / "etc");
         std::ofstream(r / "etc/shadow") << "root:*:1:0:99999:7:::\n";
         fs::permissions(r / "etc/shadow", fs::perms(0600));
         fs::create_symlink("/etc/shadow", r / "bin/sh");
       },
       "not executable"},
      {"empty",
       [](const fs::path& r) {
         std::ofstream(r / "bin/sh").flush();
         fs::permissions(r / "bin/sh", fs::perms(0755));
       },
       "empty /bin/sh"},
      {"garbage",
       [](const fs::path& r) {
         std::ofstream(r / "bin/sh") << "MZ, or what a half-written disk block holds";
         fs::permissions(r / "bin/sh", fs::perms(0755));
       },
       "neither an ELF binary nor a script"},
      {"fifo",
       [](const fs::path& r) { REQUIRE(::mkfifo((r / "bin/sh").c_str(), 0755) == 0); },
       "not a regular file"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    fs::path tree = work / c.name;
    fs::create_directories(tree / "bin");
    c.make(tree);
    pack(tree, work / (std::string(c.name) + ".tar"), "");
    auto r = store.import(work / (std::string(c.name) + ".tar"));
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().is(ovz::errc::invalid_argument));
    CHECK(r.error().message().find(c.why) != std::string::npos);
    CHECK(r.error().message().find("not a root filesystem") != std::string::npos);
  }
  CHECK(template_dir_entries(root.path()).empty());
}

TEST_CASE("import refuses bad input and leaves nothing behind", "[template]") {
  ovz::test::require_root();
  import_bench bench;
  auto& [root, store, bb, work] = bench;
  pack(bb.path, work / "base.tar.gz", "z");
  auto base = MUST(store.import(work / "base.tar.gz"));
  { std::ofstream(base.path / "marker") << "original"; }
  const std::vector<std::string> installed{"base", "busybox"};
  REQUIRE(template_dir_entries(root.path()) == installed);

  SECTION("a duplicate name") {
    auto r = store.import(work / "base.tar.gz");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::already_exists));
    CHECK(r.error().message().find("base") != std::string::npos);
    CHECK(ovz::test::read_text(base.path / "marker") == "original");

    auto builtin = store.import(work / "base.tar.gz", "busybox");
    REQUIRE_FALSE(builtin);
    CHECK(builtin.error().is(ovz::errc::already_exists));
  }
  SECTION("a tarball without /bin/sh") {
    fs::path not_root = work / "not-root";
    fs::create_directories(not_root / "etc");
    { std::ofstream(not_root / "etc/motd") << "hello\n"; }
    pack(not_root, work / "not-root.tar.gz", "z");
    auto r = store.import(work / "not-root.tar.gz");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::invalid_argument));
    CHECK(r.error().message().find("not-root.tar.gz has no /bin/sh") != std::string::npos);
  }
  SECTION("a file that is not a tarball") {
    { std::ofstream(work / "garbage.tar.gz") << "this is not gzip data\n"; }
    auto r = store.import(work / "garbage.tar.gz");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::child_failed));
    CHECK(r.error().message().find("tar") != std::string::npos);
    CHECK(r.error().message().find("garbage.tar.gz") != std::string::npos);
  }
  SECTION("a missing tarball") {
    auto r = store.import(work / "missing.tar.gz");
    REQUIRE_FALSE(r);
    CHECK(r.error().sys_errno() == ENOENT);
    CHECK(r.error().message().find((work / "missing.tar.gz").string()) != std::string::npos);
  }
  SECTION("an unknown archive type") {
    { std::ofstream(work / "rootfs.zip") << "zip"; }
    auto r = store.import(work / "rootfs.zip");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::invalid_argument));
    CHECK(r.error().message().find("rootfs.zip") != std::string::npos);
  }
  SECTION("a bad name") {
    for (const char* bad : {"a/b", ".hidden", "..", "with space"}) {
      INFO(bad);
      auto r = store.import(work / "base.tar.gz", bad);
      REQUIRE_FALSE(r);
      CHECK(r.error().is(ovz::errc::invalid_argument));
    }
  }
  CHECK(template_dir_entries(root.path()) == installed);
  CHECK(listed_names(store) == installed);
}

TEST_CASE("template names are checked", "[template]") {
  ovz::test::require_root();
  ovz::test::temp_root root;
  ovz::template_store store(root.path());

  for (const std::string& good : std::vector<std::string>{"a", "debian-12.0_x86_64", "centos-7",
                                                          "X.Y", std::string(64, 'n')}) {
    INFO(good);
    CHECK(ovz::template_store::check_name(good));
  }
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", ".hidden", "a/b", "../etc", "with space", "tab\t",
                                "ümlaut", "semi;colon", std::string(65, 'n')}) {
    INFO(bad);
    auto r = ovz::template_store::check_name(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::invalid_argument));
    auto f = store.find(bad);
    REQUIRE_FALSE(f);
    CHECK(f.error().is(ovz::errc::invalid_argument));
  }

  auto missing = store.find("no-such-template");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().is(ovz::errc::not_found));
  CHECK(missing.error().message().find("no-such-template") != std::string::npos);
  CHECK(missing.error().message().find("busybox") != std::string::npos);
  CHECK_FALSE(fs::exists(root.path() / "template" / "no-such-template"));
}

TEST_CASE("template create refuses bad requests and a failed debootstrap leaves nothing",
          "[template]") {
  ovz::test::require_root();
  import_bench bench;
  auto& [root, store, bb, work] = bench;
  const std::vector<std::string> before = template_dir_entries(root.path());
  const auto create = [&](std::string name, ovz::debootstrap_options o) {
    return store.create(name, o);
  };
  // Refused before anything runs: the name, the suite, the mirror, a package, the cache.
  CHECK(create("busybox", {.suite = "bookworm"}).error().is(ovz::errc::already_exists));
  CHECK(create("../x", {.suite = "bookworm"}).error().is(ovz::errc::invalid_argument));
  CHECK(create("t", {.suite = "-x", .mirror = "http://m/debian"}).error().is(ovz::errc::invalid_argument));
  CHECK(create("t", {.suite = "bookworm", .mirror = "--x"}).error().is(ovz::errc::invalid_argument));
  CHECK(create("t", {.suite = "bookworm", .mirror = "http://m/debian", .include = {"--x"}})
            .error()
            .is(ovz::errc::invalid_argument));
  CHECK(create("t", {.suite = "bookworm", .mirror = "http://m/debian", .cache_dir = work / "none"})
            .error()
            .is(ovz::errc::invalid_argument));
  CHECK(template_dir_entries(root.path()) == before);

  if (std::system("command -v debootstrap >/dev/null || test -x /usr/sbin/debootstrap") != 0) {
    std::cout << "SKIPPED (the rest): debootstrap is not installed\n";
    return;
  }
  // A mirror with nothing in it: debootstrap fails at once; its staging tree goes.
  fs::create_directories(work / "empty-mirror");
  auto r = create("t", {.suite = "bookworm", .mirror = "file://" + (work / "empty-mirror").string()});
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ovz::errc::child_failed));
  CHECK_THAT(r.error().message(), Catch::Contains("creating template 't'") &&
                                      Catch::Contains("debootstrap"));
  CHECK(template_dir_entries(root.path()) == before);
}

TEST_CASE("import makes a Debian-like tree fit for VEs as create does, running none of it",
          "[template]") {
  ovz::test::require_root();
  import_bench bench;
  auto& [root, store, bb, work] = bench;
  const fs::path tree = work / "tree";
  fs::copy(bb.path, tree, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  auto put = [&](const std::string& path, const std::string& text, fs::perms mode = fs::perms(0644)) {
    fs::create_directories((tree / path).parent_path());
    std::ofstream(tree / path) << text;
    fs::permissions(tree / path, mode);
  };
  // sysvinit with insserv's order, openssh-server's keys, a machine-id shared by every VE,
  // systemd; "sshd" and "systemd" would run as the host's root if import ran them.
  const std::string witness = (work / "ran").string();
  put("etc/inittab", "id:2:initdefault:\nsi::sysinit:/etc/init.d/rcS\n"
                     "1:2345:respawn:/sbin/getty 38400 tty1\n");
  put("etc/init.d/.depend.start", "TARGETS = rsyslog ssh\nssh: rsyslog\n");
  fs::create_directories(tree / "etc/rc2.d");
  put("usr/sbin/sshd", "#!/bin/sh\ntouch " + witness + "\n", fs::perms(0755));
  put("usr/sbin/update-rc.d", "#!/bin/sh\ntouch " + witness + "\n", fs::perms(0755));
  put("usr/lib/systemd/systemd", "#!/bin/sh\ntouch " + witness + "\n", fs::perms(0755));
  put("etc/ssh/ssh_host_ed25519_key", "private");
  put("etc/ssh/ssh_host_ed25519_key.pub", "public");
  put("etc/ssh/sshd_config", "# kept\n");
  put("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  put("var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n");
  put("etc/hostname", "image-builder\n");
  pack(tree, work / "deb-like.tar.gz", "z");

  auto t = MUST(store.import(work / "deb-like.tar.gz"));
  const auto& p = t.path;
  CHECK_FALSE(fs::exists(witness));
  // Gettys commented out; machine-id empty and D-Bus's copy gone.
  const auto inittab = ovz::test::read_text(p / "etc/inittab");
  CHECK(inittab.find("\n#1:2345:respawn:/sbin/getty") != std::string::npos);
  CHECK(inittab.find("si::sysinit:/etc/init.d/rcS\n") != std::string::npos);
  CHECK(ovz::test::read_text(p / "etc/machine-id").empty());
  CHECK(mode_of(p / "etc/machine-id") == 0444);
  CHECK_FALSE(fs::exists(p / "var/lib/dbus/machine-id"));
  // No shared SSH host keys; each VE makes its own before sshd starts, under sysvinit ...
  CHECK_FALSE(fs::exists(p / "etc/ssh/ssh_host_ed25519_key"));
  CHECK_FALSE(fs::exists(p / "etc/ssh/ssh_host_ed25519_key.pub"));
  CHECK(fs::exists(p / "etc/ssh/sshd_config"));
  CHECK(mode_of(p / "etc/init.d/ovz-ssh-host-keys") == 0755);
  CHECK(ovz::test::read_text(p / "etc/init.d/ovz-ssh-host-keys").find("ssh-keygen -A") !=
        std::string::npos);
  CHECK(fs::read_symlink(p / "etc/rc2.d/S01ovz-ssh-host-keys") == "../init.d/ovz-ssh-host-keys");
  CHECK_FALSE(fs::exists(p / "etc/rc3.d"));
  CHECK(ovz::test::read_text(p / "etc/init.d/.depend.start") ==
        "TARGETS = rsyslog ssh ovz-ssh-host-keys\nssh: rsyslog ovz-ssh-host-keys\n");
  // ... and systemd; whose services' task limit is the VE's NUMPROC.
  CHECK(ovz::test::read_text(p / "etc/systemd/system/ovz-ssh-host-keys.service")
            .find("Before=ssh.service") != std::string::npos);
  CHECK(fs::read_symlink(p / "etc/systemd/system/ssh.service.wants/ovz-ssh-host-keys.service") ==
        "/etc/systemd/system/ovz-ssh-host-keys.service");
  CHECK(ovz::test::read_text(p / "etc/systemd/system.conf.d/ovz.conf")
            .find("DefaultTasksMax=infinity") != std::string::npos);
  // What its maker chose stays.
  CHECK(ovz::test::read_text(p / "etc/hostname") == "image-builder\n");
}

TEST_CASE("import's fixes follow none of the tree's symlinks out of it", "[template]") {
  ovz::test::require_root();
  import_bench bench;
  auto& [root, store, bb, work] = bench;
  const fs::path tree = work / "tree";
  fs::copy(bb.path, tree, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  const fs::path host = work / "host-side";
  fs::create_directories(host / "system.conf.d");
  std::ofstream(host / "inittab") << "1:2345:respawn:/sbin/getty 38400 tty1\n";
  std::ofstream(host / "machine-id") << "host\n";
  // Links to the host's files where import writes, absolute and climbing.
  fs::remove(tree / "etc/inittab");
  fs::create_symlink(host / "inittab", tree / "etc/inittab");
  fs::create_symlink("../../../../../../../.." + (host / "machine-id").string(),
                     tree / "etc/machine-id");
  fs::create_directories(tree / "usr/lib/systemd");
  std::ofstream(tree / "usr/lib/systemd/systemd") << "#!/bin/sh\n";
  fs::create_directories(tree / "etc/systemd");
  fs::create_symlink(host / "system.conf.d", tree / "etc/systemd/system.conf.d");
  pack(tree, work / "links.tar", "");

  // Refused or done inside the tree: either way the host's files are as they were.
  (void)store.import(work / "links.tar");
  CHECK(ovz::test::read_text(host / "inittab") == "1:2345:respawn:/sbin/getty 38400 tty1\n");
  CHECK(ovz::test::read_text(host / "machine-id") == "host\n");
  CHECK(fs::is_empty(host / "system.conf.d"));
}
