// Root of a VE administers its own server: its hostname, the mounts a server makes, its
// network's sysctls and its limits; in a default VE through its monitor, in a --userns VE
// in its own namespaces. Each refused action leaves the host as it was. CTIDs 15000-15049.

#include "support/escape_probe.hpp"
#include "support/host_mounts.hpp"
#include "support/temp_root.hpp"
#include "support/ve_shell.hpp"
#include "support/userns_root.hpp"

#include <ovz/setting.hpp>
#include <ovz/ve.hpp>

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

using namespace ovz;
using ovz::test::host_mounts;
using ovz::test::temp_root;
using ovz::test::userns_root;

using ovz::test::run_sh;
using ovz::test::sh;

namespace {

std::string host_file(const char* path) {
  std::string value;
  std::getline(std::ifstream(path), value);
  return value;
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// What a server's root does at boot and after, which works in every kind of VE.
void administers_itself(const ve& v, bool userns) {
  // Its names, as hostname.sh and systemd-hostnamed set them.
  CHECK(MUST(v.exec({"/escape_probe", "names", "web1-renamed", "example.org"})).out ==
        "web1-renamed example.org ok ok\n");
  CHECK(sh(v, "hostname") == "web1-renamed\n");
  // tmpfs where a server wants one, resized and unmounted again.
  CHECK(sh(v, "mkdir -p /srv/scratch && mount -t tmpfs -o size=1M,mode=0700 tmpfs /srv/scratch "
              "&& df -k /srv/scratch | tail -1 | awk '{print $2}'") == "1024\n");
  // Named with its source: busybox otherwise adds the options /proc/mounts shows, whose
  // uid= is the host's in a user namespace, which the kernel refuses there.
  CHECK(sh(v, "mount -o remount,size=2M tmpfs /srv/scratch && echo x > /srv/scratch/f && "
              "df -k /srv/scratch | tail -1 | awk '{print $2}'") == "2048\n");
  sh(v, "umount /srv/scratch && test ! -e /srv/scratch/f");
  sh(v, "mount -t tmpfs tmpfs /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /tmp");
  // proc and sysfs for a chroot: the VE's own view, its host knobs still closed.
  CHECK(sh(v, "mkdir -p /srv/chroot/proc /srv/chroot/sys && "
              "mount -t proc proc /srv/chroot/proc && mount -t sysfs -o ro sysfs /srv/chroot/sys "
              "&& readlink /srv/chroot/proc/1/exe >/dev/null && cat /srv/chroot/proc/1/comm")
            .size() > 1);
  CHECK(run_sh(v, "echo 1 > /srv/chroot/proc/sys/kernel/sysrq").exit_code != 0);
  CHECK(run_sh(v, "echo 1 > /srv/chroot/sys/kernel/rcu_expedited").exit_code != 0);
  sh(v, "umount /srv/chroot/proc && umount /srv/chroot/sys");
  // The network's sysctls are its own network namespace's. Kernels before 6.5 show no
  // net.core.somaxconn in a network namespace a user namespace owns.
  CHECK(sh(v, "echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward") ==
        "1\n");
  const auto somaxconn = sh(v, "test ! -e /proc/sys/net/core/somaxconn || "
                               "(echo 1024 > /proc/sys/net/core/somaxconn && "
                               "cat /proc/sys/net/core/somaxconn)");
  CHECK(somaxconn == (userns && somaxconn.empty() ? "" : "1024\n"));
  // Not the kernel's.
  CHECK(run_sh(v, "echo 1 > /proc/sys/kernel/sysrq").exit_code != 0);
  CHECK(run_sh(v, "echo 1 > /proc/sys/vm/drop_caches").exit_code != 0);
}

}  // namespace

TEST_CASE("root of a default VE sets its names, mounts what a server needs, sets its network's "
          "sysctls; the host is unchanged",
          "[admin]") {
  test::require_root();
  temp_root root;
  auto v = root.open(15000);
  MUST(v.create());
  test::install_escape_probe(root, v);
  const auto name = host_name();
  const auto forward = host_file("/proc/sys/net/ipv4/ip_forward");
  const auto somaxconn = host_file("/proc/sys/net/core/somaxconn");
  const auto mounts = host_mounts(root.path());
  MUST(v.start());

  administers_itself(v, false);
  // Without a user namespace, what would reach beyond the VE's own mounts stays refused.
  for (const char* refused :
       {"mount --bind /etc /srv", "mount -t ext4 /dev/null /srv", "umount /proc/keys",
        "umount /proc/sys", "umount /dev", "mount -o remount,rw /proc/sys",
        "mount -o remount,rw /sys", "mount -t debugfs debugfs /srv",
        "mount --make-shared /"}) {
    INFO(refused);
    CHECK(run_sh(v, refused).exit_code != 0);
  }
  CHECK(sh(v, "grep -c ' /proc/keys ' /proc/self/mountinfo") == "1\n");

  CHECK(host_name() == name);
  CHECK(host_file("/proc/sys/net/ipv4/ip_forward") == forward);
  CHECK(host_file("/proc/sys/net/core/somaxconn") == somaxconn);
  CHECK(host_mounts(root.path()) == mounts);
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a user of a VE other than root gets none of the monitor's help: no mount over /etc, "
          "no hostname",
          "[admin]") {
  test::require_root();
  temp_root root;
  auto v = root.open(15003);
  MUST(v.create());
  MUST(v.start());
  sh(v, "echo 'u:x:1000:1000::/:/bin/sh' >> /etc/passwd && hostname before");
  // A tmpfs over /etc would let its owner write the passwd file su reads.
  for (const char* refused :
       {"mount -t tmpfs tmpfs /etc", "mount -t tmpfs tmpfs /tmp", "hostname taken",
        "mount -t proc proc /tmp"}) {
    INFO(refused);
    auto r = run_sh(v, std::string("su -s /bin/sh u -c '") + refused + "' 2>&1");
    CHECK(r.exit_code != 0);
    // EPERM, as busybox words it for mount(2) and sethostname(2).
    CHECK((r.out.find("permission denied") != std::string::npos ||
           r.out.find("not permitted") != std::string::npos));
  }
  CHECK(sh(v, "hostname") == "before\n");
  CHECK(sh(v, "grep -c ' /etc \\| /tmp ' /proc/self/mountinfo || true") == "0\n");
  // Root still gets it.
  sh(v, "mount -t tmpfs tmpfs /tmp && umount /tmp");
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("init and its children, not only commands run from the host, get the monitor's help",
          "[admin]") {
  test::require_root();
  temp_root root;
  auto v = root.open(15001);
  MUST(v.create());
  MUST(v.start({.init = {"/bin/sh", "-c",
                         "hostname booted && mkdir -p /run/app && mount -t tmpfs tmpfs /run/app "
                         "&& exec sleep 1000"}}));
  // The init's own calls are answered before exec returns to the test only by chance: wait.
  std::string mounted;
  for (int i = 0; i < 100 && mounted.empty(); ++i) {
    mounted = run_sh(v, "grep ' /run/app ' /proc/1/mountinfo").out;
    if (mounted.empty()) ::usleep(20000);
  }
  CHECK(mounted.find("tmpfs") != std::string::npos);
  CHECK(sh(v, "hostname") == "booted\n");
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a user namespace made inside a default VE gets the kernel's answer, not the monitor's",
          "[admin]") {
  test::require_root();
  temp_root root;
  auto v = root.open(15002);
  MUST(v.create());
  MUST(v.start());
  auto r = run_sh(v, "unshare -U -r -m sh -c 'hostname nested; echo $?; "
                  "mount -t tmpfs tmpfs /tmp && echo mounted'");
  if (r.out.empty()) {
    WARN("this kernel refused a user namespace inside the VE: " << r.err);
  } else {
    // Its UTS namespace is the VE's, owned by the host's user namespace: refused. Its mount
    // namespace is its own: allowed, and invisible to the VE.
    CHECK(r.out == "1\nmounted\n");
    CHECK(sh(v, "hostname") == "ct15002\n");
    CHECK(sh(v, "grep -c ' /tmp ' /proc/1/mountinfo || true") == "0\n");
  }
  MUST(v.stop({.fast = true}));
}

TEST_CASE("root of a --userns VE administers its own namespaces as the kernel allows it",
          "[admin][userns]") {
  test::require_root();
  userns_root root;
  auto v = root.open(15010);
  MUST(v.create({.userns = true}));
  test::install_escape_probe(root.get(), v);
  const auto name = host_name();
  const auto forward = host_file("/proc/sys/net/ipv4/ip_forward");
  const auto mounts = host_mounts(root.get().path());
  MUST(v.start());

  administers_itself(v, true);
  // Binds inside its own tree, and cgroup2 on its delegated subtree.
  CHECK(sh(v, "mkdir -p /srv/etc && mount --bind /etc /srv/etc && cat /srv/etc/hostname && "
              "umount /srv/etc") == MUST(v.exec({"cat", "/etc/hostname"})).out);
  CHECK(sh(v, "mkdir -p /srv/cg && mount -t cgroup2 cgroup2 /srv/cg && "
              "test -e /srv/cg/cgroup.procs && echo yes; umount /srv/cg") == "yes\n");
  // Its capabilities are those of its user namespace, the host's stay out of reach.
  CHECK(run_sh(v, "mount -t ext4 /dev/null /srv").exit_code != 0);
  CHECK(run_sh(v, "echo 1 > /proc/sys/kernel/sysrq").exit_code != 0);

  CHECK(host_name() == name);
  CHECK(host_file("/proc/sys/net/ipv4/ip_forward") == forward);
  CHECK(host_mounts(root.get().path()) == mounts);
  MUST(v.stop({.fast = true}));
  CHECK(test::leftovers(root.get()).empty());
}

TEST_CASE("root of a VE raises its open-file limit up to NUMFILE and no further", "[admin]") {
  test::require_root();
  temp_root root;
  auto v = root.open(15020);
  MUST(v.create());
  ve_changes c;
  MUST(parse_setting("numfile", "2048:4096", c));
  MUST(v.apply(c, true));
  MUST(v.start());
  CHECK(sh(v, "ulimit -Sn; ulimit -Hn") == "2048\n4096\n");
  CHECK(sh(v, "ulimit -Sn 4096 && ulimit -Sn") == "4096\n");
  CHECK(run_sh(v, "ulimit -Hn 8192").exit_code != 0);
  MUST(v.stop({.fast = true}));
}
