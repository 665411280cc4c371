// What the host opens in trees that a VE or a user controls: a VE's /dev, the lock, CTID.conf,
// profiles. Nothing is followed out of them, nothing blocks, errors quote no foreign content,
// and nothing is left behind. CTIDs 11000-11099.

#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "model/layout.hpp"
#include "ve/lock.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace ovz;
using ovz::test::temp_root;

namespace {

namespace fs = std::filesystem;

int sh(const ve& v, const std::string& script) {
  auto r = MUST(v.exec({"/bin/sh", "-c", script}));
  UNSCOPED_INFO(script << " → " << r.exit_code << " " << r.out << r.err);
  return r.exit_code;
}

security_changes devnodes(std::vector<devnode_grant> grants) {
  security_changes c;
  c.devnodes = std::move(grants);
  return c;
}

// Every entry below a host directory, to see that nothing appeared or went.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// /dev/net -> <host dir> in the VE: a live grant of net/tun made through /proc/PID/root used to
// mknod the host's <host dir>/tun, and a planted /dev/kmsg symlink the host's file.
TEST_CASE("a live DEVNODES change never follows the VE's own symlinks to the host",
          "[isolation][devnodes]") {
  test::require_root();
  temp_root root;
  const auto canary = root.path() / "canary";
  fs::create_directories(canary);
  std::ofstream(canary / "precious") << "host data\n";
  const auto before = entries(canary);

  auto v = root.open(11000);
  MUST(v.create());
  MUST(v.start());
  REQUIRE(sh(v, "ln -s " + canary.string() + " /dev/net && ln -s " + canary.string() +
                    "/precious /dev/kmsg") == 0);

  auto tun = v.set_security(devnodes({{"net/tun", device_access::read_write}}), false);
  REQUIRE_FALSE(tun);
  INFO(tun.error().message());
  CHECK_THAT(tun.error().message(), Catch::Contains("VE 11000") && Catch::Contains("/dev/net"));
  CHECK(entries(canary) == before);

  // An honest grant still works: the planted link is replaced by the node.
  MUST(v.set_security(devnodes({{"kmsg", device_access::write}}), false));
  CHECK(sh(v, "test -c /dev/kmsg") == 0);
  MUST(v.set_security(devnodes({{"kmsg", device_access::none}}), false));
  CHECK(sh(v, "test -e /dev/kmsg") != 0);
  CHECK(entries(canary) == before);
  struct stat st {};
  REQUIRE(::lstat((canary / "precious").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0644);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("the lock never follows a symlink and takes no content", "[ve][lock]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11001);
  MUST(v.create());
  const auto l = detail::layout_of(root.path(), v.id());
  const auto canary = root.path() / "precious";
  std::ofstream(canary) << "host data\n";
  fs::remove(l.lock);
  fs::create_symlink(canary, l.lock);

  auto r = v.start();
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK_THAT(r.error().message(), Catch::Contains("VE 11001") && Catch::Contains("symlink"));
  std::ifstream in(canary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "host data\n");

  fs::remove(l.lock);
  MUST(v.start());
  CHECK(fs::file_size(l.lock) == 0);
  MUST(v.stop({.fast = true}));
}

TEST_CASE("a lock file exists only while its VE does", "[ve][lock]") {
  test::require_root();
  temp_root root;
  const auto lock_of = [&](std::uint32_t id) { return root.path() / "lock" / (std::to_string(id) + ".lck"); };

  // Refused commands on CTIDs that do not exist.
  CHECK_FALSE(root.open(11002).start());
  CHECK_FALSE(root.open(11002).stop());
  CHECK_FALSE(root.open(11002).destroy());
  CHECK_FALSE(root.open(11003).create({.ostemplate = "../../etc"}));
  CHECK_FALSE(fs::exists(lock_of(11002)));
  CHECK_FALSE(fs::exists(lock_of(11003)));

  auto v = root.open(11004);
  MUST(v.create());
  CHECK(fs::exists(lock_of(11004)));
  MUST(v.destroy());
  CHECK_FALSE(fs::exists(lock_of(11004)));
  MUST(v.create());
  MUST(v.start());
  MUST(v.stop({.fast = true}));
  MUST(v.destroy());
  CHECK_FALSE(fs::exists(lock_of(11004)));
}

// Removing the file of a held lock must not let two callers hold "the" lock: one that opened
// the old file waits for it and must then see that the path names another.
TEST_CASE("a lock file removed by its holder never lets two callers in", "[ve][lock]") {
  test::require_root();
  temp_root root;
  const auto id = MUST(ctid::from_number(11005));
  const auto l = detail::layout_of(root.path(), id);
  std::atomic<int> inside{0}, most{0}, entered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto lock = detail::ve_lock::acquire(l, id);
        if (!lock) continue;  // locked: fine, the point is who gets in
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {}
        ++entered;
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        --inside;
      }  // the VE does not exist: each release removes the file
    });
  }
  for (auto& t : threads) t.join();
  INFO(entered.load() << " entries");
  CHECK(entered > 100);
  CHECK(most == 1);
  CHECK_FALSE(fs::exists(l.lock));
}

namespace {

// The state root seen read-only, as after a disk error (errors=remount-ro): a read-only bind
// mount of it over itself, undone on scope exit.
struct read_only_view {
  explicit read_only_view(const fs::path& dir) : dir_(dir) {
    REQUIRE(::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) == 0);
    mounted_ = true;
    REQUIRE(::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0);
  }
  ~read_only_view() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  fs::path dir_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("a VE can be changed live and stopped on a read-only state root", "[ve][lock]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11006);
  MUST(v.create());
  MUST(v.start());
  {
    read_only_view ro(root.path());
    REQUIRE(::access((root.path() / "conf").c_str(), W_OK) != 0);
    CHECK(errno == EROFS);
    ve_params p;
    p.ubc = {{ubc_resource::numproc, {.barrier = 80, .limit = 80}}};
    MUST(v.set(p, false));
    auto saved = v.set(p, true);
    REQUIRE_FALSE(saved);
    CHECK(saved.error().sys_errno() == EROFS);
    MUST(v.stop({.fast = true}));
    CHECK(MUST(v.status()).state == ve_state::stopped);
  }
  MUST(v.start());
  MUST(v.stop({.fast = true}));
}

namespace {

struct run_result {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// A shell command under a 10 s limit, so that a hang fails the test instead of stalling the
// suite.
run_result run(const std::string& command) {
  const auto cmd = "timeout -s KILL 10 " + command + " 2>&1";
  run_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  UNSCOPED_INFO(command << " → " << r.exit_code << "\n" << r.out);
  return r;
}

run_result ovzctl(const fs::path& root, const std::string& args) {
  return run(std::string(OVZCTL_PATH) + " --root " + root.string() + " " + args);
}

}  // namespace

TEST_CASE("a FIFO as CTID.conf is refused at once and the other VEs are listed", "[ve][conf]") {
  test::require_root();
  temp_root root;
  MUST(root.open(11010).create());
  MUST(root.open(11011).create({.hostname = "honest"}));
  const auto conf = detail::layout_of(root.path(), MUST(ctid::from_number(11010))).conf;
  fs::remove(conf);
  REQUIRE(::mkfifo(conf.c_str(), 0600) == 0);

  auto status = ovzctl(root.path(), "status 11010");
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Catch::Contains("CTID 11010 exist") &&
                             Catch::Contains(conf.string() + " is not a regular file"));
  auto list = ovzctl(root.path(), "list -a");
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("11010") && Catch::Contains("honest") &&
                           Catch::Contains("not a regular file"));
  auto start = root.open(11010).start();
  REQUIRE_FALSE(start);
  CHECK(start.error().is(errc::invalid_argument));
  fs::remove(conf);
}

// A secret stands in for /etc/shadow: a file that is not ours.
constexpr const char* secret = "root:$6$SECRETSALT$SECRETHASH:20228:0:99999:7:::\n";

TEST_CASE("errors never copy a refused file and quote arguments short and escaped",
          "[ve][conf]") {
  test::require_root();
  temp_root root;
  const auto shadow = root.path() / "shadow";
  std::ofstream(shadow) << secret;

  auto v = root.open(11012);
  MUST(v.create());
  MUST(v.start());
  security_changes profile;
  profile.seccomp_profile = shadow.string();
  auto p = v.set_security(profile, true);
  REQUIRE_FALSE(p);
  INFO(p.error().message());
  CHECK_THAT(p.error().message(), Catch::Contains("line 1"));
  CHECK_THAT(p.error().message(), !Catch::Contains("SECRET") && !Catch::Contains("root:"));
  MUST(v.stop({.fast = true}));

  // CTID.conf linked to the secret: not followed, so not quoted either.
  const auto conf = v.conf_path();
  fs::rename(conf, root.path() / "saved.conf");
  fs::create_symlink(shadow, conf);
  for (const auto& message : {v.start().error().message(), v.config().error().message()}) {
    INFO(message);
    CHECK_THAT(message, Catch::Contains("symlink") && !Catch::Contains("SECRET"));
  }
  auto st = ovzctl(root.path(), "status 11012");
  CHECK_THAT(st.out, Catch::Contains("symlink") && !Catch::Contains("SECRET"));
  fs::remove(conf);
  fs::rename(root.path() / "saved.conf", conf);

  // A line of our own CTID.conf is quoted, but only an escaped excerpt of it.
  std::ofstream(conf, std::ios::app) << std::string(5000, 'x') << "\x1b[2J\n";
  auto bad_line = v.start();
  REQUIRE_FALSE(bad_line);
  CHECK(bad_line.error().message().size() < 300);
  CHECK_THAT(bad_line.error().message(), Catch::Contains("(5004 bytes)"));

  auto long_name = root.open(11013).create({.hostname = std::string(10000, 'a')});
  REQUIRE_FALSE(long_name);
  CHECK(long_name.error().message().size() < 200);
  CHECK_THAT(long_name.error().message(), Catch::Contains("(10000 bytes)"));
  auto escape = ovzctl(root.path(), "create 11013 --hostname \"$(printf 'a\\033[31mb')\"");
  CHECK(escape.exit_code != 0);
  CHECK_THAT(escape.out, Catch::Contains("\\x1b") && !Catch::Contains("\x1b"));
}

namespace {

// The dotfiles (temporary files) in a directory.
std::vector<std::string> dotfiles(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().front() == '.') out.push_back(e.path().filename().string());
  return out;
}

}  // namespace

// Killed by strace at the entry of a named system call of the save.
TEST_CASE("a save killed at any step leaves no temporary file behind", "[ve][conf]") {
  test::require_root();
  if (std::system("strace -V >/dev/null 2>&1") != 0) {
    std::cout << "SKIPPED: strace is missing (install-deps.sh installs it)\n";
    std::cout.flush();
    std::_Exit(77);
  }
  temp_root root;
  auto v = root.open(11020);
  MUST(v.create());
  const auto conf_dir = v.conf_path().parent_path();
  const auto killed_at = [&](const char* syscall, int numproc) {
    const auto args = std::string("set 11020 --numproc ") + std::to_string(numproc) + " --save";
    return run("strace -f -o /dev/null -e trace=" + std::string(syscall) + " -e inject=" +
               syscall + ":signal=KILL:when=1 " + OVZCTL_PATH + " --root " +
               root.path().string() + " " + args);
  };
  // Before the file has a name, and while it is written and flushed: nothing is left.
  for (const char* step : {"write", "fsync"}) {
    auto r = killed_at(step, 300);
    CHECK(r.exit_code != 0);  // killed
    CHECK(dotfiles(conf_dir).empty());
    CHECK(MUST(v.config()).get("NUMPROC") != "300:300");
  }
  // Between naming it and the rename: the next save removes it.
  auto r = killed_at("rename", 400);
  CHECK(r.exit_code != 0);
  CHECK(MUST(v.config()).get("NUMPROC") != "400:400");
  ve_params p;
  p.ubc = {{ubc_resource::numproc, {.barrier = 500, .limit = 500}}};
  MUST(v.set(p, true));
  CHECK(dotfiles(conf_dir).empty());
  CHECK(MUST(v.config()).get("NUMPROC") == "500:500");
}
