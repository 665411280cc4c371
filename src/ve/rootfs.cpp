#include "ve/rootfs.hpp"

#include "ve/devices.hpp"

#include <fmt/format.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace ovz::detail {
namespace {

fs_step mount_step(std::string fstype, std::string source, std::string target,
                   unsigned long flags, std::string data = {}) {
  fs_step s;
  s.what = fs_step::kind::mount;
  s.fstype = std::move(fstype);
  s.source = std::move(source);
  s.target = std::move(target);
  s.flags = flags;
  s.data = std::move(data);
  return s;
}

// /proc files that tell about or act on the host, as the OCI runtimes mask them, and those
// that describe the host's boot, disks and kernel memory to a VE that has none of its own
// (cmdline, diskstats, partitions, slabinfo): /dev/null over files, an empty read-only tmpfs
// over directories; and the parts that are not namespaced made read-only, but for
// /proc/sys/net. A kernel without one of them simply lacks it (optional).
std::vector<fs_step> proc_hardening(const std::string& r) {
  std::vector<fs_step> steps;
  for (const char* file : {"kcore", "keys", "timer_list", "sched_debug", "latency_stats",
                           "timer_stats", "kallsyms", "cmdline", "diskstats", "partitions",
                           "slabinfo"}) {
    fs_step s;
    s.what = fs_step::kind::bind;
    s.flags = MS_REC;
    s.source = "/dev/null";
    s.target = r + "/proc/" + file;
    s.optional = true;
    steps.push_back(s);
  }
  for (const char* dir : {"/proc/acpi", "/proc/scsi", "/sys/firmware"}) {
    fs_step s = mount_step("tmpfs", "tmpfs", r + dir, MS_RDONLY, "size=0");
    s.optional = true;
    steps.push_back(s);
  }
  // The network's settings are the VE's own network namespace's (the kernel shows each
  // process its own), which root of the VE sets as OpenVZ let it: ip_forward, somaxconn.
  // Bound before /proc/sys is made read-only, so that the read-only copy carries it along
  // as it is.
  fs_step net;
  net.what = fs_step::kind::bind;
  net.flags = MS_REC;
  net.source = net.target = r + "/proc/sys/net";
  net.optional = true;
  steps.push_back(net);
  for (const char* path : {"sys", "sysrq-trigger", "bus", "fs", "irq"}) {
    fs_step bind;
    bind.what = fs_step::kind::bind;
    bind.flags = MS_REC;
    bind.source = bind.target = r + "/proc/" + path;
    bind.optional = true;
    fs_step ro;
    ro.what = fs_step::kind::remount_ro;
    ro.target = bind.target;
    ro.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    ro.optional = true;
    steps.push_back(bind);
    steps.push_back(ro);
  }
  return steps;
}

fs_step mkdir_step(std::string target, unsigned mode) {
  fs_step s;
  s.what = fs_step::kind::mkdir;
  s.target = std::move(target);
  s.mode = mode;
  return s;
}

fs_step symlink_step(std::string points_to, std::string target) {
  fs_step s;
  s.what = fs_step::kind::symlink;
  s.source = std::move(points_to);
  s.target = std::move(target);
  return s;
}

}  // namespace

std::vector<fs_step> rootfs_steps(const std::filesystem::path& root, bool userns,
                                  std::optional<std::uint64_t> max_ptys) {
  const std::string r = root.string();
  const unsigned long nosuid_nodev_noexec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  std::vector<fs_step> steps;
  steps.push_back(mkdir_step(r + "/proc", 0555));
  steps.push_back(mount_step("proc", "proc", r + "/proc", nosuid_nodev_noexec));
  steps.push_back(mkdir_step(r + "/sys", 0555));
  steps.push_back(mount_step("sysfs", "sysfs", r + "/sys", nosuid_nodev_noexec | MS_RDONLY));
  for (auto& s : proc_hardening(r)) steps.push_back(std::move(s));
  steps.push_back(mkdir_step(r + "/dev", 0755));
  steps.push_back(
      mount_step("tmpfs", "tmpfs", r + "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"));
  struct node {
    const char* name;
    unsigned major, minor;
  };
  for (const node& n : {node{"null", 1, 3}, node{"zero", 1, 5}, node{"full", 1, 7},
                        node{"random", 1, 8}, node{"urandom", 1, 9}, node{"tty", 5, 0}})
    add_node_steps(steps, r + "/dev/" + n.name, std::string("/dev/") + n.name,
                   S_IFCHR | 0666, makedev(n.major, n.minor), userns);
  steps.push_back(mkdir_step(r + "/dev/pts", 0755));
  steps.push_back(mount_step("devpts", "devpts", r + "/dev/pts", MS_NOSUID | MS_NOEXEC,
                             "newinstance,ptmxmode=0666,mode=0620,gid=5" +
                                 (max_ptys ? fmt::format(",max={}", *max_ptys) : "")));
  steps.push_back(symlink_step("pts/ptmx", r + "/dev/ptmx"));
  steps.push_back(mkdir_step(r + "/dev/shm", 01777));
  steps.push_back(mount_step("tmpfs", "shm", r + "/dev/shm", MS_NOSUID | MS_NODEV,
                             "mode=1777,size=65536k"));
  steps.push_back(symlink_step("/proc/self/fd", r + "/dev/fd"));
  steps.push_back(symlink_step("/proc/self/fd/0", r + "/dev/stdin"));
  steps.push_back(symlink_step("/proc/self/fd/1", r + "/dev/stdout"));
  steps.push_back(symlink_step("/proc/self/fd/2", r + "/dev/stderr"));
  // A fresh /run and /run/lock at every start, as a booted system has them: a systemd mounts
  // them itself where it may, and dies where it may not (no CAP_SYS_ADMIN). Their pages are
  // charged to the VE's memory cgroup; the sizes are those systemd and Debian give them.
  steps.push_back(mkdir_step(r + "/run", 0755));
  steps.push_back(mount_step("tmpfs", "tmpfs", r + "/run", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
                             "mode=755,size=20%"));
  steps.push_back(mkdir_step(r + "/run/lock", 01777));
  steps.push_back(mount_step("tmpfs", "tmpfs", r + "/run/lock", nosuid_nodev_noexec,
                             "mode=1777,size=5120k"));
  return steps;
}

}  // namespace ovz::detail
