// What a crash, a killed command or a damaged state root leaves, and what the next command
// does with it: templates that did not reach the disk, staging directories of killed imports,
// a CTID.conf that cannot be looked at. CTIDs 11110-11129.

#include "support/temp_root.hpp"
#include "support/text_file.hpp"
#include "support/userns_root.hpp"

#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include "model/layout.hpp"
#include "template/internal.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ovz::test::temp_root;

namespace {

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(("PATH=$PATH:/usr/sbin:/sbin; " + command).c_str()) == 0);
}

void pack(const fs::path& dir, const fs::path& tarball) {
  run(fmt::format("tar --numeric-owner -C '{}' -cf '{}' .", dir.string(), tarball.string()));
}

std::vector<std::string> staging_dirs(const fs::path& root) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "template", ec)) {
    auto name = e.path().filename().string();
    if (name.starts_with('.')) names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("a busybox template with an empty binary is rebuilt at the next create and start",
          "[template][crash]") {
  ovz::test::require_root();
  temp_root root;
  ovz::ve v = root.open(11110);
  MUST(v.create());
  const auto binary = root.path() / "template/busybox/bin/busybox";
  const auto full = fs::file_size(binary);

  // What a crash before writeback left on an older libovz, which did not flush.
  fs::resize_file(binary, 0);
  MUST(v.start());
  CHECK(fs::file_size(binary) == full);
  auto r = MUST(v.exec({"/bin/sh", "-c", "echo alive"}));
  CHECK(r.out == "alive\n");
  MUST(v.stop({.fast = true}));

  fs::resize_file(binary, 0);
  MUST(root.open(11111).create());
  CHECK(fs::file_size(binary) == full);
  CHECK(staging_dirs(root.path()).empty());
}

TEST_CASE("an imported template with a broken /bin/sh is refused, saying what to do",
          "[template][crash]") {
  ovz::test::require_root();
  temp_root root;
  ovz::template_store store(root.path());
  const auto bb = MUST(store.find("busybox"));
  pack(bb.path, root.path() / "mini.tar");
  const auto t = MUST(store.import(root.path() / "mini.tar"));
  ovz::ve v = root.open(11112);
  MUST(v.create({.ostemplate = "mini"}));

  fs::resize_file(t.path / "bin/busybox", 0);
  auto found = store.find("mini");
  REQUIRE_FALSE(found);
  CHECK(found.error().is(ovz::errc::invalid_argument));
  INFO(found.error().message());
  CHECK(found.error().message().find("empty /bin/sh") != std::string::npos);
  CHECK(found.error().message().find("remove " + t.path.string() + " and import") !=
        std::string::npos);

  auto started = v.start();
  REQUIRE_FALSE(started);
  CHECK(started.error().message().find("empty /bin/sh") != std::string::npos);
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);

  ovz::ve other = root.open(11113);
  REQUIRE_FALSE(other.create({.ostemplate = "mini"}));
  CHECK_FALSE(fs::exists(root.path() / "private/11113"));
  CHECK_FALSE(fs::exists(ovz::detail::layout_of(root.path(), other.id()).conf));
}

TEST_CASE("a journal abort right after the busybox template is built leaves it whole",
          "[template][crash]") {
  ovz::test::require_root();
  ovz::test::scratch_fs disk("ext4");
  const auto image = disk.path().string() + ".img";
  std::string device;
  {
    std::ifstream mounts("/proc/self/mounts");
    for (std::string dev, dir, rest; mounts >> dev >> dir && std::getline(mounts, rest);)
      if (dir == disk.path().string()) device = dev;
  }
  REQUIRE(device.starts_with("/dev/loop"));
  const auto trigger = fs::path("/sys/fs/ext4") / fs::path(device).filename() / "trigger_fs_error";
  REQUIRE(fs::exists(trigger));
  run(fmt::format("mount -o remount,errors=remount-ro {}", disk.path().string()));
  {
    const auto root = disk.path() / "root";
    fs::create_directories(root);
    // Only what the template build writes is then at stake.
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK(::syncfs(fd) == 0);
    ::close(fd);
    MUST(ovz::template_store(root).find("busybox"));
    // The journal is aborted: what was not yet on disk is lost, as at a power cut.
    { std::ofstream(trigger) << "1"; }
  }
  run(fmt::format("umount {0} && (e2fsck -fy {1} >/dev/null 2>&1; [ $? -le 1 ]) && "
                  "mount -o loop {1} {0}",
                  disk.path().string(), image));
  const auto bb = disk.path() / "root/template/busybox";
  REQUIRE(fs::is_directory(bb));
  CHECK(fs::file_size(bb / "bin/busybox") == fs::file_size("/bin/busybox"));
  CHECK(ovz::test::read_text(bb / "etc/inittab").find("::sysinit:") != std::string::npos);
  CHECK(fs::read_symlink(bb / "bin/sh") == "/bin/busybox");
}

TEST_CASE("a killed import's staging directory goes at the next import, a live one stays",
          "[template][crash]") {
  ovz::test::require_root();
  temp_root root;
  ovz::template_store store(root.path());
  const auto bb = MUST(store.find("busybox"));
  // Big enough that tar is still extracting when it is killed.
  const auto tree = root.path() / "work/big";
  fs::create_directories(tree);
  fs::copy(bb.path, tree, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  run(fmt::format("head -c 64M /dev/urandom > '{}'", (tree / "blob").string()));
  pack(tree, root.path() / "work/big.tar");
  pack(bb.path, root.path() / "work/next.tar");

  pid_t importer = ::fork();
  REQUIRE(importer >= 0);
  if (importer == 0) {
    ::setpgid(0, 0);
    ::_exit(store.import(root.path() / "work/big.tar") ? 0 : 1);
  }
  ::setpgid(importer, importer);
  // Killed, with its tar, once tar has begun to write into the staging directory.
  bool extracting = false;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       !extracting && std::chrono::steady_clock::now() < until;) {
    for (const auto& name : staging_dirs(root.path())) {
      std::error_code ec;  // it may go at any time
      if (!fs::is_empty(root.path() / "template" / name, ec) && !ec) extracting = true;
    }
    if (!extracting) std::this_thread::sleep_for(1ms);
  }
  ::kill(-importer, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(importer, &status, 0) == importer);
  REQUIRE(extracting);
  REQUIRE(WIFSIGNALED(status));
  for (int i = 0; i < 500 && ::kill(-importer, 0) == 0; ++i) std::this_thread::sleep_for(10ms);
  const auto left = staging_dirs(root.path());
  REQUIRE(left.size() == 1);
  CHECK(left[0].starts_with(".big.tmp-"));
  CHECK_FALSE(fs::exists(root.path() / "template/big"));

  // A concurrent builder's directory, held as an import holds it.
  auto live = MUST(ovz::detail::staging_dir::create(root.path() / "template", "live"));
  MUST(store.import(root.path() / "work/next.tar"));
  const auto after = staging_dirs(root.path());
  REQUIRE(after.size() == 1);
  CHECK(after[0] == live.path().filename().string());
  CHECK(fs::is_directory(root.path() / "template/next/bin"));
}

TEST_CASE("create refuses, and touches nothing, when CTID.conf cannot be looked at",
          "[ve][crash]") {
  ovz::test::require_root();
  temp_root root;
  ovz::ve v = root.open(11114);
  MUST(v.create());
  const auto l = ovz::detail::layout_of(root.path(), v.id());
  { std::ofstream(l.upper / "marker") << "data"; }
  const auto saved = root.path() / "saved.conf";
  fs::rename(l.conf, saved);

  SECTION("CTID.conf is a symlink loop") {
    fs::create_symlink(l.conf.filename(), l.conf);
    auto r = v.create();
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().is(ovz::errc::already_exists));
    fs::remove(l.conf);
  }
  SECTION("conf/ is a symlink loop (ELOOP)") {
    const auto conf_dir = l.conf.parent_path();
    fs::rename(conf_dir, root.path() / "conf.real");
    fs::create_symlink(conf_dir.filename(), conf_dir);
    auto r = v.create();
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().sys_errno() == ELOOP);
    CHECK(r.error().message().find(l.conf.string()) != std::string::npos);
    fs::remove(conf_dir);
    fs::rename(root.path() / "conf.real", conf_dir);
  }
  CHECK(ovz::test::read_text(l.upper / "marker") == "data");
  fs::rename(saved, l.conf);
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);
}
