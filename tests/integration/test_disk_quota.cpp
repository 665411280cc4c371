// A VE with a diskspace keeps its files in an ext4 image of its own: its limits hold (space
// and inodes), df inside shows them, the disk grows live and shrinks while stopped, freed
// space goes back to the host, and nothing of it (image, loop device) outlives the VE.
// Where the kernel keeps quota (the lab) soft limits and QUOTATIME hold too.
// CTIDs 17000-17049.

#include "support/temp_root.hpp"
#include "support/ve_shell.hpp"
#include "support/userns_root.hpp"

#include <ovz/disk_quota.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>

#include "kernel/caps.hpp"

#include <linux/capability.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <memory>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;

using ovz::test::run_sh;
using ovz::test::sh;

namespace {

// df's size and use of / inside, in KiB, and inodes.
struct df_row {
  std::uint64_t size = 0, used = 0;
};
df_row df(const ve& v, bool inodes = false) {
  auto out = sh(v, std::string("df -k ") + (inodes ? "-i " : "") +
                       "/ | tail -1 | awk '{print $2, $3}'");
  std::istringstream in(out);
  df_row r;
  in >> r.size >> r.used;
  return r;
}

std::filesystem::path image_of(const ve& v) { return v.private_path() / "disk.img"; }

// Loop devices bound to `image`: /sys/block/loop*/loop/backing_file names it. The last
// mount of a stopped VE goes with its mount namespace, a moment after its processes.
std::vector<std::string> loops_of(const std::filesystem::path& image) {
  std::vector<std::string> found;
  for (int round = 0; round < 500; ++round) {
    found.clear();
    for (const auto& e : std::filesystem::directory_iterator("/sys/block")) {
      std::ifstream f(e.path() / "loop" / "backing_file");
      std::string name;
      if (std::getline(f, name) && name.rfind(image.string(), 0) == 0)
        found.push_back(e.path().filename().string());
    }
    if (found.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return found;
}

std::uint64_t allocated_kib(const std::filesystem::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_blocks) / 2;
}

create_options with_disk(std::uint64_t kib, std::uint64_t inodes = 0) {
  create_options o;
  o.disk.diskspace = disk_limit{kib, kib};
  if (inodes) o.disk.diskinodes = disk_limit{inodes, inodes};
  return o;
}

}  // namespace

TEST_CASE("a VE's disk holds it to its diskspace, df inside shows it, and freed space goes "
          "back to the host", "[disk]") {
  test::require_root();
  temp_root root;
  auto v = root.open(17000);
  auto other = root.open(17001);
  MUST(v.create(with_disk(64 * 1024)));
  MUST(other.create());
  CHECK(MUST(v.config()).get("DISKSPACE") == "65536:65536");
  // Sparse: a new disk takes a small part of its size on the host.
  CHECK(allocated_kib(image_of(v)) < 16 * 1024);
  MUST(v.start());
  MUST(other.start());

  auto shown = df(v);
  CHECK(shown.size <= 64 * 1024);
  CHECK(shown.size > 52 * 1024);  // what ext4's journal and inode tables leave of it
  auto q = MUST(v.quota());
  CHECK(q.blocks.hard == 64 * 1024);
  CHECK(q.soft_enforced == kernel_keeps_disk_quota());
  // The kernel's quota counts the VE's files; df the ext4's own (its quota files) as well.
  if (q.soft_enforced)
    CHECK(q.blocks.usage <= shown.used);
  else
    CHECK(q.blocks.usage == shown.used);

  // Writing more than fits stops at the limit with ENOSPC; the other VE writes on.
  auto full = run_sh(v, "dd if=/dev/zero of=/big bs=1M count=100 2>&1; sync");
  CHECK(full.out.find("No space left on device") != std::string::npos);
  CHECK(MUST(v.quota()).blocks.usage > 50 * 1024);
  CHECK(MUST(v.quota()).blocks.usage <= 64 * 1024);
  CHECK(run_sh(other, "dd if=/dev/zero of=/big bs=1M count=80 2>/dev/null && rm /big").exit_code == 0);
  const auto filled = allocated_kib(image_of(v));
  CHECK(filled > 50 * 1024);

  // Deleted inside, the space is the host's again: the image's holes are punched, by a
  // worker ext4 hands its discards to once the deletion is committed.
  sh(v, "rm /big; sync");
  CHECK(MUST(v.quota()).blocks.usage < 4 * 1024);
  auto returned = allocated_kib(image_of(v));
  for (int waited = 0; returned >= filled - 40 * 1024 && waited < 300; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    returned = allocated_kib(image_of(v));
  }
  CHECK(returned < filled - 40 * 1024);

  MUST(v.stop({.fast = true}));
  // Measured stopped as well.
  CHECK(MUST(v.quota()).blocks.usage < 4 * 1024);
  CHECK(loops_of(image_of(v)).empty());
  MUST(other.stop({.fast = true}));
}

TEST_CASE("a VE's disk holds it to its inode count", "[disk]") {
  test::require_root();
  temp_root root;
  auto v = root.open(17002);
  MUST(v.create(with_disk(32 * 1024, 2048)));
  MUST(v.start());
  auto inodes = df(v, true);
  CHECK(inodes.size >= 2048);
  CHECK(inodes.size < 2048 + 512);
  auto r = run_sh(v, "mkdir /many && cd /many && seq 1 4000 | xargs touch 2>&1; ls | wc -l");
  CHECK(r.out.find("No space left on device") != std::string::npos);
  auto made = MUST(v.quota()).inodes;
  CHECK(made.usage >= 2000);
  CHECK(made.usage <= inodes.size);
  CHECK(made.hard == 2048);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a VE's disk grows while it runs and shrinks while it is stopped", "[disk]") {
  test::require_root();
  temp_root root;
  auto v = root.open(17003);
  MUST(v.create(with_disk(32 * 1024)));
  MUST(v.start());
  const auto before = df(v).size;
  sh(v, "dd if=/dev/zero of=/data bs=1M count=20 2>/dev/null");

  ve_params grow;
  grow.disk.diskspace = disk_limit{100 * 1024, 128 * 1024};
  if (detail::has_effective_capability(CAP_SYS_RESOURCE)) {
    MUST(v.set(grow, true));
  } else {
    // The kernel grows a mounted ext4 only for a caller with CAP_SYS_RESOURCE.
    WARN("this process has no CAP_SYS_RESOURCE: the disk grows only while the VE is stopped");
    auto refused = v.set(grow, true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().is(errc::unsupported));
    CHECK(refused.error().message().find("CAP_SYS_RESOURCE") != std::string::npos);
    CHECK(std::filesystem::file_size(image_of(v)) == 32 * 1024 * 1024);
    CHECK(MUST(v.config()).get("DISKSPACE") == "32768:32768");
    CHECK(df(v).size == before);
    MUST(v.stop({.fast = true}));
    MUST(v.set(grow, false));
    MUST(v.start());
  }
  auto after = df(v).size;
  if (kernel_keeps_disk_quota()) {
    // ext4 shows a project's soft limit as the size of the directories in it, as OpenVZ did.
    CHECK(after == 100 * 1024);
  } else {
    CHECK(after > before + 90 * 1024);
    CHECK(after <= 128 * 1024);
  }
  CHECK(MUST(v.config()).get("DISKSPACE") == "102400:131072");
  // The room is there: 60 MiB more fit now.
  CHECK(run_sh(v, "dd if=/dev/zero of=/more bs=1M count=60 2>/dev/null").exit_code == 0);
  sh(v, "rm /more");

  // Shrinking needs the disk unmounted: refused while running, and nothing changes.
  ve_params shrink;
  shrink.disk.diskspace = disk_limit{48 * 1024, 48 * 1024};
  auto refused = v.set(shrink, true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(errc::already_running));
  CHECK(refused.error().message().find("stop the VE first") != std::string::npos);
  CHECK(MUST(v.config()).get("DISKSPACE") == "102400:131072");
  CHECK(df(v).size == after);

  MUST(v.stop({.fast = true}));
  MUST(v.set(shrink, false));
  CHECK(std::filesystem::file_size(image_of(v)) == 48 * 1024 * 1024);
  // Below what is in use it cannot go: resize2fs says so, and the disk stays as it was.
  ve_params tiny;
  tiny.disk.diskspace = disk_limit{16 * 1024, 16 * 1024};
  auto too_small = v.set(tiny, false);
  REQUIRE_FALSE(too_small);
  INFO(too_small.error().message());
  CHECK(std::filesystem::file_size(image_of(v)) == 48 * 1024 * 1024);
  CHECK(MUST(v.config()).get("DISKSPACE") == "49152:49152");

  MUST(v.start());
  CHECK(df(v).size <= 48 * 1024);
  CHECK(sh(v, "ls -l /data | awk '{print $5}'") == std::to_string(20 * 1024 * 1024) + "\n");
  MUST(v.stop({.fast = true}));
}

TEST_CASE("disk settings a VE cannot have are refused and change nothing", "[disk]") {
  test::require_root();
  temp_root root;
  auto plain = root.open(17004);
  MUST(plain.create());
  const auto conf_before = MUST(plain.config()).get("DISKSPACE");
  ve_params p;
  p.disk.diskinodes = disk_limit{64 * 1024, 64 * 1024};
  auto no_image = plain.set(p, true);
  REQUIRE_FALSE(no_image);
  CHECK(no_image.error().is(errc::unsupported));
  CHECK(no_image.error().message().find("without a disk image") != std::string::npos);
  CHECK(MUST(plain.config()).get("DISKSPACE") == conf_before);
  CHECK_FALSE(MUST(plain.config()).get("DISKINODES"));
  auto no_quota = plain.quota();
  REQUIRE_FALSE(no_quota);
  CHECK(no_quota.error().is(errc::unsupported));

  auto v = root.open(17005);
  // Below the minimum, or a second level the kernel or libovz cannot keep: nothing is made.
  auto small = v.create(with_disk(1024));
  REQUIRE_FALSE(small);
  CHECK(small.error().is(errc::invalid_argument));
  if (!kernel_keeps_disk_quota()) {
    auto ugid = with_disk(32 * 1024);
    ugid.disk.quotaugidlimit = 100;
    auto second = v.create(ugid);
    REQUIRE_FALSE(second);
    CHECK(second.error().is(errc::unsupported));
    INFO(second.error().message());
    CHECK(second.error().message().find("QUOTAUGIDLIMIT 100") == 0);
  }
  create_options inodes_alone;
  inodes_alone.disk.diskinodes = disk_limit{5000, 5000};
  CHECK_FALSE(v.create(inodes_alone));
  CHECK_FALSE(std::filesystem::exists(v.conf_path()));
  CHECK_FALSE(std::filesystem::exists(v.private_path()));

  MUST(v.create(with_disk(32 * 1024, 4096)));
  ve_params inodes;
  inodes.disk.diskinodes = disk_limit{8192, 8192};
  auto fixed = v.set(inodes, true);
  REQUIRE_FALSE(fixed);
  INFO(fixed.error().message());
  // With the kernel's quota a hard limit may change, but not beyond the image's inodes.
  CHECK(fixed.error().is(kernel_keeps_disk_quota() ? errc::invalid_argument
                                                   : errc::unsupported));
  CHECK(MUST(v.config()).get("DISKINODES") == "4096:4096");
  if (!kernel_keeps_disk_quota()) {
    // One made without a DISKINODES has ext4's count, not a hard value to change either.
    auto defaults = root.open(17008);
    MUST(defaults.create(with_disk(32 * 1024)));
    auto unset = defaults.set(inodes, true);
    REQUIRE_FALSE(unset);
    CHECK(unset.error().is(errc::unsupported));
    CHECK_FALSE(MUST(defaults.config()).get("DISKINODES"));
  }
  ve_params soft;
  soft.disk.diskinodes = disk_limit{3000, 4096};
  soft.disk.quotatime = 600;
  MUST(v.set(soft, true));
  CHECK(MUST(v.config()).get("DISKINODES") == "3000:4096");
  CHECK(MUST(v.quota()).quotatime == 600);
  if (!kernel_keeps_disk_quota()) {
    // Without the kernel's quota on its disk, no user or group of the VE has limits.
    auto user = v.set_ugid_quota({.id = 1000}, disk_limit{1024, 1024}, std::nullopt);
    REQUIRE_FALSE(user);
    CHECK(user.error().is(errc::unsupported));
    CHECK(user.error().message().find("quota feature") != std::string::npos);
    CHECK_FALSE(v.ugid_quotas());
  }
}

TEST_CASE("a VE's disk survives a VE killed while writing, and destroy leaves no device or "
          "image", "[disk]") {
  test::require_root();
  temp_root root;
  auto v = root.open(17006);
  MUST(v.create(with_disk(64 * 1024)));
  MUST(v.start());
  MUST(v.exec({"/bin/sh", "-c", "(while :; do dd if=/dev/zero of=/f bs=64k count=100 "
                                "2>/dev/null; done) >/dev/null 2>&1 &"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  MUST(v.stop({.fast = true}));
  CHECK(loops_of(image_of(v)).empty());
  // The journal makes it whole again at the next mount: no check or rescan, and the
  // kernel's quota (where it keeps one) still counts what is on the disk.
  MUST(v.start());
  MUST(v.stop({.fast = true}));
  REQUIRE(loops_of(image_of(v)).empty());
  const auto check = "/usr/sbin/e2fsck -f -n " + image_of(v).string() + " >/dev/null 2>&1";
  CHECK(std::system(check.c_str()) == 0);
  MUST(v.start());
  CHECK(sh(v, "echo after > /after && cat /after") == "after\n");
  MUST(v.stop({.fast = true}));
  const auto image = image_of(v);
  MUST(v.destroy());
  CHECK_FALSE(std::filesystem::exists(image));
  CHECK(loops_of(image).empty());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a VE in a user namespace moves its files onto a disk image, owners kept",
          "[disk][userns]") {
  test::require_root();
  test::userns_root root;
  auto v = root.open(17017);
  create_options o;
  o.userns = true;
  MUST(v.create(o));
  MUST(v.start());
  sh(v, "touch /mine && chown 1000:1000 /mine && touch /root-owned");
  MUST(v.stop({.fast = true}));
  ve_params move;
  move.disk.diskspace = disk_limit{32 * 1024, 32 * 1024};
  MUST(v.set(move, false));
  MUST(v.start());
  CHECK(sh(v, "stat -c %u:%g /mine /root-owned") == "1000:1000\n0:0\n");
  CHECK(sh(v, "touch /new && stat -c %u /new") == "0\n");
  CHECK(df(v).size <= 32 * 1024);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a VE in a user namespace keeps its files on a disk of its own", "[disk][userns]") {
  test::require_root();
  test::userns_root root;
  auto v = root.open(17007);
  auto o = with_disk(32 * 1024);
  o.userns = true;
  MUST(v.create(o));
  MUST(v.start());
  CHECK(sh(v, "touch /mine && stat -c %u /mine") == "0\n");
  CHECK(df(v).size <= 32 * 1024);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("where the kernel keeps quota, a VE writes past its soft limits until QUOTATIME "
          "runs out", "[disk]") {
  test::require_root();
  if (!kernel_keeps_disk_quota()) {
    WARN("SKIPPED: this kernel keeps no disk quota (quota_v2): soft limits cannot hold");
    return;
  }
  temp_root root;
  auto v = root.open(17009);
  auto o = with_disk(64 * 1024, 4096);
  o.disk.diskspace->soft = 8 * 1024;
  o.disk.diskinodes->soft = 1000;
  o.disk.quotatime = 3;
  MUST(v.create(o));
  MUST(v.start());
  auto q = MUST(v.quota());
  CHECK(q.soft_enforced);
  CHECK_FALSE(q.blocks.grace);
  CHECK(df(v).size == 8 * 1024);

  // Past both soft limits: allowed, and the grace time runs.
  CHECK(run_sh(v, "dd if=/dev/zero of=/big bs=1M count=12 2>&1 && sync").exit_code == 0);
  CHECK(run_sh(v, "mkdir /many && cd /many && seq 1 1200 | xargs touch").exit_code == 0);
  q = MUST(v.quota());
  CHECK(q.blocks.usage >= 12 * 1024);
  CHECK(q.inodes.usage >= 1200);
  REQUIRE(q.blocks.grace);
  CHECK(*q.blocks.grace <= 3);
  REQUIRE(q.inodes.grace);
  CHECK(*q.inodes.grace <= 3);

  // Once it has run out the soft limits act as the hard ones.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  q = MUST(v.quota());
  CHECK(q.blocks.grace == std::optional<std::uint64_t>(0));
  auto more = run_sh(v, "dd if=/dev/zero of=/more bs=1M count=1 2>&1; sync");
  INFO(more.out);
  CHECK(more.out.find("Disk quota exceeded") != std::string::npos);
  auto file = run_sh(v, "touch /many/one-more 2>&1");
  INFO(file.out);
  CHECK(file.out.find("Disk quota exceeded") != std::string::npos);

  // Back under them, the VE writes again.
  sh(v, "rm -rf /big /many");
  CHECK(run_sh(v, "dd if=/dev/zero of=/more bs=1M count=1 2>/dev/null").exit_code == 0);
  CHECK_FALSE(MUST(v.quota()).blocks.grace);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("where the kernel keeps quota, DISKINODES changes while the VE runs", "[disk]") {
  test::require_root();
  if (!kernel_keeps_disk_quota()) {
    WARN("SKIPPED: this kernel keeps no disk quota (quota_v2): the inode count is the image's");
    return;
  }
  temp_root root;
  auto v = root.open(17010);
  MUST(v.create(with_disk(64 * 1024, 4096)));
  MUST(v.start());
  ve_params fewer;
  fewer.disk.diskinodes = disk_limit{1100, 1100};
  MUST(v.set(fewer, true));
  CHECK(MUST(v.config()).get("DISKINODES") == "1100:1100");
  CHECK(MUST(v.quota()).inodes.hard == 1100);
  auto r = run_sh(v, "mkdir /many && cd /many && seq 1 1500 | xargs touch 2>&1");
  CHECK(r.out.find("Disk quota exceeded") != std::string::npos);
  const auto held = MUST(v.quota()).inodes.usage;
  CHECK(held <= 1100);
  CHECK(held > 1000);

  ve_params more;
  more.disk.diskinodes = disk_limit{4096, 4096};
  MUST(v.set(more, true));
  CHECK(run_sh(v, "cd /many && seq 1 1500 | xargs touch").exit_code == 0);
  MUST(v.stop({.fast = true}));
}

namespace {

// A user of the VE, uid and gid 1000, with a home it owns; `as_user` runs a script as it.
void add_user(const ve& v) {
  sh(v, "echo 'u:x:1000:1000::/home/u:/bin/sh' >> /etc/passwd && "
        "echo 'u:x:1000:' >> /etc/group && mkdir -p /home/u && chown 1000:1000 /home/u");
}
exec_result as_user(const ve& v, const std::string& script) {
  return run_sh(v, "su -s /bin/sh u -c '" + script + "' 2>&1");
}

std::optional<ugid_quota> quota_of(const ve& v, quota_ugid owner) {
  for (const auto& q : MUST(v.ugid_quotas()))
    if (q.owner == owner) return q;
  return std::nullopt;
}

// The second level, on a VE with QUOTAUGIDLIMIT 2: a user's limit holds that user and not
// root, the list shows the VE's own ids, and a third owner with limits is refused.
void check_second_level(ve& v) {
  add_user(v);
  const quota_ugid user{.id = 1000};
  MUST(v.set_ugid_quota(user, disk_limit{1024, 1024}, std::nullopt));
  auto hit = as_user(v, "dd if=/dev/zero of=/home/u/f bs=1M count=2; sync");
  INFO(hit.out);
  CHECK(hit.out.find("Disk quota exceeded") != std::string::npos);
  CHECK(run_sh(v, "dd if=/dev/zero of=/home/u/root bs=1M count=2 2>&1").exit_code == 0);
  auto q = quota_of(v, user);
  REQUIRE(q);
  CHECK(q->blocks.hard == 1024);
  CHECK(q->blocks.usage <= 1024);
  CHECK(q->blocks.usage > 512);
  REQUIRE(quota_of(v, {.id = 0}));
  CHECK(quota_of(v, {.id = 0})->blocks.usage >= 2048);
  for (const auto& each : MUST(v.ugid_quotas())) CHECK(each.owner.id < 65536);

  // Inodes, by group; an unset limit stays as it was.
  const quota_ugid group{.type = quota_ugid::kind::group, .id = 1000};
  MUST(v.set_ugid_quota(group, std::nullopt, disk_limit{5, 5}));
  auto files = as_user(v, "cd /home/u && touch a b c d e f g");
  CHECK(files.out.find("Disk quota exceeded") != std::string::npos);
  CHECK(quota_of(v, group)->inodes.hard == 5);
  CHECK(quota_of(v, group)->blocks.hard == 0);
  MUST(v.set_ugid_quota(user, std::nullopt, std::nullopt));
  CHECK(quota_of(v, user)->blocks.hard == 1024);

  // QUOTAUGIDLIMIT 2: a third owner with limits is refused until one is removed.
  auto third = v.set_ugid_quota({.id = 1001}, disk_limit{100, 100}, std::nullopt);
  REQUIRE_FALSE(third);
  CHECK(third.error().is(errc::invalid_argument));
  CHECK(third.error().message().find("QUOTAUGIDLIMIT 2") != std::string::npos);
  MUST(v.set_ugid_quota(user, disk_limit{}, disk_limit{}));
  MUST(v.set_ugid_quota({.id = 1001}, disk_limit{100, 100}, std::nullopt));
  CHECK(as_user(v, "dd if=/dev/zero of=/home/u/f bs=1M count=2").exit_code == 0);
}

// A running VE of CTID `id` with QUOTAUGIDLIMIT 2 on a 64 MiB disk, in a user namespace with
// `userns`, for `check`; `stopped` runs first, before its start. Skipped, saying why, where
// the kernel keeps no quota.
void with_second_level(std::uint32_t id, bool userns, const std::function<void(ve&)>& check,
                       const std::function<void(ve&)>& stopped = {}) {
  test::require_root();
  if (!kernel_keeps_disk_quota()) {
    WARN("SKIPPED: this kernel keeps no disk quota (quota_v2): no second level");
    return;
  }
  auto run = [&](auto& root) {
    auto v = root.open(id);
    auto o = with_disk(64 * 1024);
    o.disk.quotaugidlimit = 2;
    o.userns = userns;
    MUST(v.create(o));
    if (stopped) stopped(v);
    MUST(v.start());
    check(v);
    MUST(v.stop({.fast = true}));
  };
  if (userns) {
    test::userns_root root;
    run(root);
  } else {
    temp_root root;
    run(root);
    CHECK(test::leftovers(root).empty());
  }
}

}  // namespace

TEST_CASE("where the kernel keeps quota, a VE's users and groups have limits of their own",
          "[disk]") {
  // Set while stopped, held once it runs.
  with_second_level(17012, false, check_second_level, [](ve& v) {
    MUST(v.set_ugid_quota({.id = 1000}, disk_limit{1024, 1024}, std::nullopt));
  });
}

TEST_CASE("where the kernel keeps quota, a user namespace VE's users have limits by their ids "
          "inside", "[disk][userns]") {
  with_second_level(17013, true, check_second_level);
}

// The host's stock quota tools (Debian's quota package) and the libraries they load, copied
// into a VE of the built-in template, which has busybox only; false without them.
bool install_quota_tools(const ve& v) {
  const std::vector<std::string> tools = {"/usr/sbin/setquota", "/usr/sbin/repquota",
                                          "/usr/bin/quota"};
  if (!std::filesystem::exists(tools.front())) return false;
  std::vector<std::string> files = tools;
  std::unique_ptr<FILE, int (*)(FILE*)> ldd(::popen("ldd /usr/sbin/setquota", "r"), ::pclose);
  REQUIRE(ldd);
  char word[512];
  while (std::fscanf(ldd.get(), "%511s", word) == 1)
    if (word[0] == '/') files.emplace_back(word);
  for (const auto& file : files) {
    unique_fd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(in);
    const auto dir = std::filesystem::path(file).parent_path().string();
    exec_options o;
    o.stdin_fd = in.get();
    auto r = MUST(v.exec({"/bin/sh", "-c", "mkdir -p " + dir + " && cat > " + file +
                                                " && chmod 755 " + file},
                         o));
    REQUIRE(r.exit_code == 0);
  }
  return true;
}

// The stock tools on a running VE with QUOTAUGIDLIMIT 2: its disk shows in the mount table
// and as a device numbered as its root's; root's setquota holds a user (and not root),
// repquota and the user's own quota show it, a user sets nothing, a third owner is refused.
void check_quota_tools(ve& v) {
  if (!install_quota_tools(v)) {
    WARN("SKIPPED: the host has no quota tools (apt-get install quota)");
    return;
  }
  add_user(v);
  CHECK(sh(v, "grep -c '^/dev/root / ext4 ro' /proc/mounts") == "1\n");
  // glibc's dev_t from the node's major and minor, against the root's st_dev.
  const auto numbers = sh(v, R"(M=$((0x$(stat -c %t /dev/root))); m=$((0x$(stat -c %T /dev/root)));
echo $(( (M << 8) | (m & 255) | ((m >> 8) << 20) )) $(stat -c %d /))");
  std::istringstream pair(numbers);
  std::string node, root_dev;
  pair >> node >> root_dev;
  CHECK(node == root_dev);

  sh(v, "setquota -u u 1024 1024 0 0 /");
  auto set = quota_of(v, {.id = 1000});
  REQUIRE(set);
  CHECK(set->blocks.hard == 1024);
  CHECK(as_user(v, "dd if=/dev/zero of=/home/u/f bs=1M count=2; sync").out.find(
            "Disk quota exceeded") != std::string::npos);
  sh(v, "dd if=/dev/zero of=/root-file bs=1M count=2 2>/dev/null");

  const auto report = sh(v, "repquota -u /");
  INFO(report);
  CHECK(report.find("/dev/root") != std::string::npos);
  CHECK(report.find("u         ") != std::string::npos);
  auto own = as_user(v, "quota -u u");
  INFO(own.out);
  CHECK(own.out.find("/dev/root") != std::string::npos);
  CHECK(own.out.find("1024") != std::string::npos);
  CHECK(as_user(v, "setquota -u u 0 0 0 0 /").exit_code != 0);
  // The grace times of the VE's users (Q_SETINFO), which the host's quota() leaves alone.
  sh(v, "setquota -u -t 3600 7200 /");
  MUST(v.quota());
  MUST(v.ugid_quotas());
  CHECK(sh(v, "repquota -u /").find("Block grace time: 01:00; Inode grace time: 02:00") !=
        std::string::npos);
  sh(v, "setquota -g u 2048 2048 0 0 /");
  CHECK(run_sh(v, "setquota -u 1001 100 100 0 0 /").exit_code != 0);
  CHECK_FALSE(quota_of(v, {.id = 1001}));
}

TEST_CASE("where the kernel keeps quota, the VE's root sets its users' limits with the stock "
          "quota tools, on the disk the VE sees as /dev/root",
          "[disk]") {
  with_second_level(17018, false, check_quota_tools);
}

TEST_CASE("where the kernel keeps quota, root of a user namespace VE uses the stock quota tools "
          "in its own ids",
          "[disk][userns]") {
  with_second_level(17019, true, [](ve& v) {
    check_quota_tools(v);
    CHECK(sh(v, "stat -c %u:%g /dev/root") == "0:0\n");
  });
}

TEST_CASE("a watcher reports a VE's disk usage going above its soft limits, each time",
          "[disk][watch]") {
  using namespace std::chrono_literals;
  test::require_root();
  temp_root root;
  auto v = root.open(17014);
  auto o = with_disk(64 * 1024, 4096);
  o.disk.diskspace->soft = 16 * 1024;
  o.disk.diskinodes->soft = 1100;
  MUST(v.create(o));
  MUST(v.start());
  auto watch = MUST(ubc_event_queue::start(v, 100ms));
  CHECK_FALSE(MUST(watch->next(300ms)));

  // Where the kernel keeps quota (the lab) a write past the soft limit may also fail: no
  // QUOTATIME, no grace. Usage is above it either way.
  run_sh(v, "dd if=/dev/zero of=/big bs=1M count=24; sync");
  auto e = MUST(watch->next(5s));
  REQUIRE(e);
  CHECK(e->disk == disk_resource::diskspace);
  CHECK(std::string(resource_name(*e)) == "diskspace");
  CHECK(e->id == v.id());
  CHECK(e->failcnt == 1);
  CHECK(e->previous == 0);
  CHECK_FALSE(MUST(watch->next(300ms)));  // still above: no news

  // Back under it and above again: the second crossing.
  sh(v, "rm /big; sync");
  std::this_thread::sleep_for(300ms);
  run_sh(v, "dd if=/dev/zero of=/big bs=1M count=24; sync");
  e = MUST(watch->next(5s));
  REQUIRE(e);
  CHECK(e->disk == disk_resource::diskspace);
  CHECK(e->failcnt == 2);
  CHECK(e->previous == 1);

  // Under it again first: a directory needs a block, which the kernel's quota would refuse.
  sh(v, "rm /big; sync");
  run_sh(v, "mkdir /many && cd /many && seq 1 1200 | xargs touch");
  e = MUST(watch->next(5s));
  REQUIRE(e);
  CHECK(e->disk == disk_resource::diskinodes);
  CHECK(e->failcnt == 1);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a VE created without a diskspace moves its files onto a disk image of its own",
          "[disk]") {
  test::require_root();
  temp_root root;
  auto v = root.open(17015);
  MUST(v.create());
  MUST(v.start());
  // A file, a hard link to it, a directory, and a template file deleted (a whiteout).
  sh(v, "mkdir /d && echo kept > /d/file && ln /d/file /d/link && rm /etc/group");
  ve_params move;
  move.disk.diskspace = disk_limit{48 * 1024, 64 * 1024};
  auto running = v.set(move, true);
  REQUIRE_FALSE(running);
  CHECK(running.error().is(errc::already_running));
  CHECK(running.error().message().find("stop it first") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(image_of(v)));
  MUST(v.stop({.fast = true}));

  MUST(v.set(move, false));
  CHECK(MUST(v.config()).get("DISKSPACE") == "49152:65536");
  CHECK(std::filesystem::exists(image_of(v)));
  CHECK_FALSE(std::filesystem::exists(v.private_path() / "fs"));
  CHECK(loops_of(image_of(v)).empty());
  MUST(v.start());
  CHECK(sh(v, "cat /d/file") == "kept\n");
  CHECK(sh(v, "stat -c %i /d/file /d/link | uniq | wc -l") == "1\n");
  CHECK(run_sh(v, "test -e /etc/group").exit_code != 0);
  CHECK(df(v).size <= 64 * 1024);
  CHECK(MUST(v.quota()).blocks.hard == 64 * 1024);
  MUST(v.stop({.fast = true}));

  // Files that do not fit: refused, and the VE keeps them where they were.
  auto big = root.open(17016);
  MUST(big.create());
  MUST(big.start());
  sh(big, "dd if=/dev/zero of=/big bs=1M count=24 2>/dev/null");
  MUST(big.stop({.fast = true}));
  ve_params small;
  small.disk.diskspace = disk_limit{16 * 1024, 16 * 1024};
  auto refused = big.set(small, false);
  REQUIRE_FALSE(refused);
  INFO(refused.error().message());
  CHECK_FALSE(MUST(big.config()).get("DISKSPACE"));
  CHECK_FALSE(std::filesystem::exists(image_of(big)));
  CHECK(std::filesystem::file_size(big.private_path() / "fs" / "big") == 24 * 1024 * 1024);
  CHECK(loops_of(big.private_path() / "disk.img.new").empty());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("an image with ext4's quota is refused where the kernel keeps none, naming the "
          "feature", "[disk]") {
  test::require_root();
  if (kernel_keeps_disk_quota()) {
    WARN("SKIPPED: this kernel keeps disk quota: it mounts such an image");
    return;
  }
  temp_root root;
  auto v = root.open(17011);
  MUST(v.create(with_disk(32 * 1024)));
  // As a VE's disk made on a host with quota and moved here.
  const auto image = image_of(v);
  const auto made = "/usr/sbin/mkfs.ext4 -q -F -b 4096 -O quota,project " + image.string();
  REQUIRE(std::system(made.c_str()) == 0);
  auto started = v.start();
  REQUIRE_FALSE(started);
  INFO(started.error().message());
  CHECK(started.error().is(errc::unsupported));
  CHECK(started.error().message().find("quota and project") != std::string::npos);
  CHECK(started.error().message().find("quota_v2") != std::string::npos);
  CHECK(MUST(v.status()).state == ve_state::stopped);
  CHECK(loops_of(image).empty());
}
