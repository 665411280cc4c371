// VEs in a user namespace (create --userns): root inside is an unprivileged range of host
// ids, the template is shared through an idmapped mount, and nothing of the host opens up.
// CTIDs 1300-1349.

#include "support/enter_script.hpp"
#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"
#include "support/ve_shell.hpp"
#include "support/userns_root.hpp"

#include <ovz/ve.hpp>

#include "model/id_range.hpp"
#include "model/layout.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>
#include <iostream>

using namespace ovz;
using ovz::test::scratch_fs;
using ovz::test::temp_root;
using ovz::test::userns_root;

using ovz::test::sh;

namespace {

detail::id_range range_of(const ve& v) {
  auto conf = MUST(v.config());
  REQUIRE(conf.get("USERNS") == "yes");
  auto map = conf.get("USERNS_MAP");
  REQUIRE(map);
  return MUST(detail::parse_id_range(*map));
}

uid_t host_uid_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Uid:", 0) == 0) return static_cast<uid_t>(std::stoul(line.substr(4)));
  FAIL("no Uid line for PID " << pid);
  return 0;
}

std::uintmax_t bytes_under(const std::filesystem::path& dir) {
  std::uintmax_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

}  // namespace

TEST_CASE("a --userns VE is root inside and an unprivileged range of ids on the host",
          "[userns][ve]") {
  test::require_root();
  userns_root root;
  auto v = root.open(1300);
  MUST(v.create({.userns = true}));
  const auto ids = range_of(v);
  CHECK(ids.count == 65536u);
  CHECK(ids.base >= 100000u);
  auto l = detail::layout_of(root.path(), v.id());
  MUST(v.start());
  auto st = MUST(v.status());

  CHECK(sh(v, "id -u") == "0\n");
  CHECK(sh(v, "cat /proc/self/uid_map | tr -s ' '") ==
        fmt::format(" 0 {} {}\n", ids.base, ids.count));
  CHECK(host_uid_of(st.init_pid) == ids.base);

  // Files the VE makes belong to base+uid on the host; the template's look like root's inside
  // and stay where they are, not copied into the private area.
  sh(v, "echo data > /made-by-root && echo data > /made-by-1000 && chown 1000:1000 /made-by-1000");
  struct stat s {};
  REQUIRE(::stat((l.upper / "made-by-root").c_str(), &s) == 0);
  CHECK(s.st_uid == ids.base);
  CHECK(s.st_gid == ids.base);
  REQUIRE(::stat((l.upper / "made-by-1000").c_str(), &s) == 0);
  CHECK(s.st_uid == ids.base + 1000);
  CHECK(sh(v, "ls -ln /bin/busybox | tr -s ' ' | cut -d' ' -f3,4") == "0 0\n");
  CHECK_FALSE(std::filesystem::exists(l.upper / "bin"));
  CHECK(bytes_under(l.private_dir) < 64 * 1024);

  // Devices are the host's nodes and still work; a new one cannot be made.
  CHECK(sh(v, "head -c 4 /dev/zero | wc -c") == "4\n");
  CHECK(MUST(v.exec({"/bin/sh", "-c", "mknod /tmp/n c 1 3"})).exit_code != 0);

  // enter joins the user namespace too: its shell is the VE's root, on the VE's devpts.
  auto e = test::enter_script(v, "tty; id -u; tr -s ' ' < /proc/self/uid_map; exit 5\n");
  INFO(e.seen);
  CHECK(e.exit_code == 5);
  CHECK(e.seen.find("/dev/pts/") != std::string::npos);
  CHECK(e.seen.find(fmt::format("0\r\n 0 {} {}", ids.base, ids.count)) != std::string::npos);

  // Changing the hostname of the running VE reaches its UTS namespace.
  MUST(v.set_hostname("inside", false));
  CHECK(sh(v, "hostname") == "inside\n");

  MUST(v.stop({.fast = true}));
  CHECK_FALSE(test::pid_alive(st.init_pid));
  CHECK(test::leftovers(root.get()).empty());
  MUST(v.destroy());
  CHECK_FALSE(std::filesystem::exists(l.private_dir));
}

TEST_CASE("user-namespace VEs get disjoint ranges, and a destroyed VE's range is reused",
          "[userns][ve]") {
  test::require_root();
  userns_root root;
  auto a = root.open(1301);
  auto b = root.open(1302);
  MUST(a.create({.userns = true}));
  MUST(b.create({.userns = true}));
  MUST(root.open(1303).create());  // without a user namespace: no range
  const auto ra = range_of(a);
  const auto rb = range_of(b);
  CHECK_FALSE(ra.overlaps(rb));
  CHECK_FALSE(MUST(root.open(1303).config()).get("USERNS_MAP"));

  MUST(a.start());
  MUST(b.start());
  CHECK(host_uid_of(MUST(a.status()).init_pid) == ra.base);
  CHECK(host_uid_of(MUST(b.status()).init_pid) == rb.base);
  // Each sees the other's files as nobody's: ids outside its range do not map.
  MUST(a.stop({.fast = true}));
  MUST(b.stop({.fast = true}));

  MUST(a.destroy());
  auto c = root.open(1304);
  MUST(c.create({.userns = true}));
  CHECK(range_of(c).base == ra.base);
  CHECK(test::leftovers(root.get()).empty());
}

TEST_CASE("user-namespace VEs created at the same time get disjoint ranges", "[userns][ve]") {
  test::require_root();
  userns_root root;
  std::vector<ve> ves;
  for (std::uint32_t id = 1310; id < 1314; ++id) ves.push_back(root.open(id));
  std::vector<result<void>> created(ves.size(), success());
  {
    std::vector<std::jthread> creators;
    for (std::size_t i = 0; i < ves.size(); ++i)
      creators.emplace_back([&, i] { created[i] = ves[i].create({.userns = true}); });
  }
  std::vector<detail::id_range> ranges;
  for (std::size_t i = 0; i < ves.size(); ++i) {
    MUST(std::move(created[i]));
    ranges.push_back(range_of(ves[i]));
  }
  for (std::size_t i = 0; i < ranges.size(); ++i)
    for (std::size_t j = i + 1; j < ranges.size(); ++j) CHECK_FALSE(ranges[i].overlaps(ranges[j]));
}

TEST_CASE("root of a user-namespace VE cannot do what host root does", "[userns][isolation]") {
  test::require_root();
  userns_root root;
  auto v = root.open(1305);
  MUST(v.create({.userns = true}));
  test::install_escape_probe(root.get(), v);
  MUST(v.start());
  auto r = MUST(v.exec({"/escape_probe"}));
  INFO(r.out << r.err);
  CHECK(r.out.find("ESCAPED") == std::string::npos);
  CHECK(r.exit_code == 0);
  // Host files the VE can see only through /proc are not its own: host root's are nobody's.
  CHECK(MUST(v.exec({"/bin/sh", "-c", "echo 1 > /proc/sys/kernel/sysrq"})).exit_code != 0);
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root.get()).empty());
}

TEST_CASE("an existing VE is not switched to or from a user namespace by editing CTID.conf",
          "[userns][ve]") {
  test::require_root();
  userns_root root;
  auto plain = root.open(1306);
  MUST(plain.create());
  auto conf = MUST(plain.config());
  MUST(conf.set("USERNS", "yes"));
  MUST(conf.save(plain.conf_path()));
  auto r = plain.start();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::bad_config));
  CHECK(r.error().message().find("create a new VE") != std::string::npos);
  // Given a range by hand, its files still belong to host root: refused as well.
  MUST(conf.set("USERNS_MAP", "300000:65536"));
  MUST(conf.save(plain.conf_path()));
  r = plain.start();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::bad_config));
  CHECK(MUST(plain.status()).state == ve_state::stopped);

  auto owned = root.open(1307);
  MUST(owned.create({.userns = true}));
  conf = MUST(owned.config());
  MUST(conf.set("USERNS", "no"));
  MUST(conf.save(owned.conf_path()));
  r = owned.start();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::bad_config));
  CHECK(test::leftovers(root.get()).empty());
}

TEST_CASE("a state root the VE's root cannot reach is named with what to do", "[userns][ve]") {
  test::require_root();
  temp_root root;  // mkdtemp: 0700
  auto v = root.open(1308);
  MUST(v.create({.userns = true}));
  auto r = v.start();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(r.error().message().find("chmod o+x " + root.path().string()) != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("where the filesystem has no idmapped mounts, start says so and changes nothing",
          "[userns][ve]") {
  test::require_root();
  scratch_fs ramfs("ramfs");
  temp_root root(ramfs.path());
  std::filesystem::permissions(root.path(), std::filesystem::perms(0755));
  auto v = root.open(1309);
  MUST(v.create({.userns = true}));
  auto r = v.start();
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().is(errc::unsupported));
  CHECK(r.error().message().find("cannot be idmapped") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(test::leftovers(root).empty());
  CHECK(MUST(v.config()).get("USERNS") == "yes");
}

TEST_CASE("DEVNODES in a user-namespace VE: the host's node bound in at the start",
          "[userns][devnodes]") {
  test::require_root();
  userns_root root;
  auto v = root.open(1315);
  MUST(v.create({.userns = true}));
  security_changes kmsg;
  kmsg.devnodes = {{"kmsg", device_access::write}};
  MUST(v.set_security(kmsg, false));
  MUST(v.start());
  CHECK(MUST(v.exec({"/bin/sh", "-c", "test -c /dev/kmsg"})).exit_code == 0);
  // The host's node keeps its owner, host root, who is nobody inside: its mode (0644) lets
  // the VE's root neither write it nor, by the grant, read it.
  auto write = MUST(v.exec({"/bin/sh", "-c", "echo '<7>libovz: userns DEVNODES' > /dev/kmsg"}));
  CHECK(write.exit_code != 0);
  CHECK_THAT(write.err, Catch::Contains("Permission denied"));
  CHECK(MUST(v.exec({"/bin/sh", "-c", "head -c 1 /dev/kmsg"})).exit_code != 0);
  // Live, the host cannot make a usable node in a user namespace's /dev: said, not faked.
  kmsg.devnodes = {{"kmsg", device_access::none}};
  auto live = v.set_security(kmsg, false);
  REQUIRE_FALSE(live);
  CHECK(live.error().is(errc::unsupported));
  CHECK(MUST(v.config()).get("DEVNODES") == "kmsg:w");
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root.get()).empty());
}
