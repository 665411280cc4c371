// What host users other than root can reach of the trees VEs and tarballs control: setuid
// files a VE's root plants in its private area, and setuid files or device nodes an imported
// template brings. CTIDs 11100-11109.

#include "support/temp_root.hpp"
#include "support/userns_root.hpp"

#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using ovz::test::temp_root;

namespace {

constexpr uid_t nobody = 65534;

// Runs `act` in a forked child that has become `nobody` (no groups): 0 when it succeeded,
// else its errno. Only system calls run between fork and exit.
template <class Act>
int as_nobody(Act act) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(nobody, nobody, nobody) != 0 ||
        ::setresuid(nobody, nobody, nobody) != 0)
      ::_exit(255);
    ::_exit(act());
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) != 255);
  return WEXITSTATUS(status);
}

// Runs busybox's `true` applet from `path`: 0 when it ran, else exec's errno.
int exec_as_nobody(const fs::path& path) {
  return as_nobody([&] {
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    ::execv(path.c_str(), argv);
    return errno;
  });
}

int open_as_nobody(const fs::path& path, int flags) {
  return as_nobody([&] {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
  });
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> host_mounts_under(const fs::path& dir) {
  std::vector<std::string> found;
  std::ifstream mounts("/proc/self/mountinfo");
  for (std::string line; std::getline(mounts, line);)
    if (line.find(dir.string()) != std::string::npos) found.push_back(line);
  return found;
}

}  // namespace

TEST_CASE("host users cannot run or open what a VE or a tarball put in the state root",
          "[security][template]") {
  ovz::test::require_root();
  temp_root root;
  // As /var/lib/ovz is: a state root every user may enter (mkdtemp made this one 0700), with
  // private/ and template/ as an older libovz made them.
  fs::permissions(root.path(), fs::perms(0755));
  for (const char* d : {"private", "template"}) {
    fs::create_directories(root.path() / d);
    fs::permissions(root.path() / d, fs::perms(0755));
  }

  SECTION("a setuid file that VE root made in its /tmp") {
    ovz::ve v = root.open(11100);
    MUST(v.create());
    MUST(v.start());
    auto planted = MUST(v.exec({"/bin/sh", "-c", "cp /bin/busybox /tmp/rs && chmod 4755 /tmp/rs"}));
    REQUIRE(planted.exit_code == 0);
    const auto host_path = root.path() / "private/11100/fs/tmp/rs";
    REQUIRE(mode_of(host_path) == 04755);

    CHECK(exec_as_nobody(host_path) == EACCES);
    CHECK(open_as_nobody(root.path() / "template/busybox/etc/passwd", O_RDONLY) == EACCES);
    // Nor through the VE's root as the host's /proc shows it.
    const auto init = MUST(v.status()).init_pid;
    REQUIRE(init > 0);
    CHECK(exec_as_nobody(fmt::format("/proc/{}/root/tmp/rs", init)) != 0);
    // The VE's overlay is mounted in its own mount namespace: the host sees no VE tree as a
    // mount, so there is none to make nosuid,nodev.
    CHECK(host_mounts_under(root.path()).empty());
    CHECK(mode_of(root.path() / "private") == 0700);
    MUST(v.stop({.fast = true}));
  }

  SECTION("a setuid file and a 0666 device node from an imported tarball") {
    ovz::template_store store(root.path());
    const auto bb = MUST(store.find("busybox"));
    const auto tree = root.path() / "work/tree";
    fs::create_directories(tree);
    fs::copy(bb.path, tree, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::copy_file(bb.path / "bin/busybox", tree / "bin/rootsh");
    fs::permissions(tree / "bin/rootsh", fs::perms(04755));
    REQUIRE(::mknod((tree / "dev/kmsg").c_str(), S_IFCHR | 0666, makedev(1, 11)) == 0);
    REQUIRE(::chmod((tree / "dev/kmsg").c_str(), 0666) == 0);
    const auto tarball = root.path() / "work/hostile.tar";
    REQUIRE(std::system(fmt::format("tar --numeric-owner -C '{}' -cf '{}' .", tree.string(),
                                    tarball.string())
                            .c_str()) == 0);
    const auto t = MUST(store.import(tarball));
    REQUIRE(mode_of(t.path / "bin/rootsh") == 04755);

    CHECK(exec_as_nobody(t.path / "bin/rootsh") == EACCES);
    CHECK(open_as_nobody(t.path / "dev/kmsg", O_WRONLY) == EACCES);
  }

  CHECK(mode_of(root.path() / "template") == 0700);
}

TEST_CASE("a user-namespace VE starts with private/ and template/ closed to host users",
          "[security][userns]") {
  ovz::test::require_root();
  ovz::test::userns_root root;
  ovz::ve v = root.open(11101);
  MUST(v.create({.userns = true}));
  MUST(v.start());
  CHECK(mode_of(root.path() / "private") == 0700);
  CHECK(mode_of(root.path() / "template") == 0700);
  auto r = MUST(v.exec({"/bin/sh", "-c", "touch /tmp/x && cat /etc/hostname && id -u"}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.ends_with("0\n"));
  MUST(v.stop({.fast = true}));
}
