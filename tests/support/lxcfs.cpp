#include "support/lxcfs.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ovz::test {
namespace {

constexpr long fuse_magic = 0x65735546;

bool fuse_mounted(const std::filesystem::path& dir) {
  struct statfs fs {};
  return ::statfs((dir / "proc" / "meminfo").c_str(), &fs) == 0 && fs.f_type == fuse_magic;
}

}  // namespace

bool lxcfs_runs() {
  const char* set = std::getenv("OVZ_LXCFS");
  return fuse_mounted(set && *set ? set : "/var/lib/lxcfs");
}

std::optional<own_lxcfs> own_lxcfs::start(const std::filesystem::path& dir) {
  const char* program = "/usr/bin/lxcfs";
  if (::access(program, X_OK) != 0 || ::access("/dev/fuse", F_OK) != 0) {
    WARN("SKIPPED: no " << program << " or no /dev/fuse (apt-get install lxcfs; modprobe fuse)");
    return std::nullopt;
  }
  std::filesystem::create_directories(dir);
  const std::string pidfile = (dir.parent_path() / "lxcfs.pid").string();
  std::vector<std::string> args = {program, "-f", "--pidfile=" + pidfile, dir.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  own_lxcfs running(dir, pid);
  for (int i = 0; i < 100 && !fuse_mounted(dir); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(fuse_mounted(dir));
  ::setenv("OVZ_LXCFS", dir.c_str(), 1);
  return running;
}

own_lxcfs::own_lxcfs(own_lxcfs&& o) noexcept
    : dir_(std::move(o.dir_)), pid_(std::exchange(o.pid_, -1)) {}

own_lxcfs::~own_lxcfs() {
  if (pid_ < 0) return;
  ::unsetenv("OVZ_LXCFS");
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  ::umount2(dir_.c_str(), MNT_DETACH);  // where it did not unmount itself
}

}  // namespace ovz::test
