// A VE's root is the top of every path in it: the chroot-and-".." escape, /proc/PID/root, the
// directories its processes hold open, and cgroupfs all stay within. CTID 1157.

#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"

#include <ovz/fd.hpp>
#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace ovz;
using ovz::test::temp_root;

namespace {

bool same(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// From the host: climbs ".." from an open directory of a VE process to the top of its mount
// tree; a directory within the VE's root passes that root on the way.
bool within(int dir, const struct stat& ve_root) {
  unique_fd fd(::fcntl(dir, F_DUPFD_CLOEXEC, 0));
  for (int i = 0; fd && i < 4096; ++i) {
    struct stat here {}, up {};
    unique_fd parent(::openat(fd.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!parent || ::fstat(fd.get(), &here) != 0 || ::fstat(parent.get(), &up) != 0) break;
    if (same(here, ve_root)) return true;
    if (same(here, up)) break;
    fd = std::move(parent);
  }
  return false;
}

// Every directory a VE process holds (open descriptors, working directory, root) that lies
// outside the VE's root, as "PID name -> link".
std::vector<std::string> directories_outside(const temp_root& root, const ve& v) {
  const auto init = MUST(v.status()).init_pid;
  struct stat ve_root {};
  REQUIRE(::stat(("/proc/" + std::to_string(init) + "/root/").c_str(), &ve_root) == 0);
  auto cg = MUST(detail::host_cgroups());
  std::vector<std::string> outside;
  for (pid_t pid : MUST(cg->procs(MUST(detail::locate(root.path(), v.id())).cgroup))) {
    const std::filesystem::path proc = "/proc/" + std::to_string(pid);
    std::vector<std::filesystem::path> held = {proc / "cwd", proc / "root"};
    std::error_code ec;
    for (std::filesystem::directory_iterator it(proc / "fd", ec), end; !ec && it != end;
         it.increment(ec))
      held.push_back(it->path());
    for (const auto& link : held) {
      unique_fd dir(::open(link.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!dir) continue;  // not a directory, or already closed
      if (!within(dir.get(), ve_root))
        outside.push_back(link.string() + " -> " + std::filesystem::read_symlink(link, ec).string());
    }
  }
  return outside;
}

}  // namespace

TEST_CASE("a VE's root is the top of every path its processes can walk", "[isolation]") {
  test::require_root();
  temp_root root;
  auto v = root.open(1157);
  MUST(v.create());
  test::install_escape_probe(root, v);
  test::write_in_root(root, v, "/ovz-ve-root-marker", "the VE's root\n");
  const auto host_marker = root.path() / "host-marker";
  std::ofstream(host_marker) << "the host\n";
  MUST(v.start());
  // An exec'd command that stays, with what it inherited from exec.
  MUST(v.exec({"/bin/sh", "-c", "cd /tmp && sleep 1000 &"}));

  auto r = MUST(v.exec({"/escape_probe", "root", host_marker.string()}));
  INFO(r.err);
  test::check_refused(r.out, {"host_marker_hidden", "chroot_escape", "proc_1_root",
                              "proc_self_root", "open_directories", "dotdot_of_root",
                              "cgroup_procs_write", "cgroup2_mount", "cgroup1_mount",
                              "cgroup_own"});
  // The climb really happened (chroot is allowed) and ended at the VE's own root.
  CHECK(r.out.find("chroot_escape ok (ended at the VE's root)") != std::string::npos);
  CHECK(r.exit_code == 0);

  // Seen from the host: init, the shell's sleep, nothing holds a directory outside.
  auto outside = directories_outside(root, v);
  INFO(outside.size() << " outside, first: " << (outside.empty() ? "" : outside.front()));
  CHECK(outside.empty());
  CHECK(MUST(v.status()).nproc >= 2);

  // A host directory offered as a command's stdin would be a way out: it is refused.
  unique_fd host_dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto handed = v.exec({"/bin/sh", "-c", "true"}, {.stdin_fd = host_dir.get()});
  REQUIRE_FALSE(handed);
  CHECK(handed.error().is(errc::invalid_argument));
  CHECK_THAT(handed.error().message(), Catch::Contains("is a directory"));
  MUST(v.stop({.fast = true}));
}
