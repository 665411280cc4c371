#include "ve/proc_views.hpp"

#include <ovz/host.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/idmap.hpp"
#include "kernel/sys.hpp"
#include "log.hpp"

#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "ovz_kmod.h"

namespace ovz::detail {
namespace {

constexpr long fuse_magic = 0x65735546;  // FUSE_SUPER_MAGIC

bool has_time_namespaces() { return ::access("/proc/self/ns/time", F_OK) == 0; }

}  // namespace

std::optional<std::filesystem::path> lxcfs_here() {
  const char* set = std::getenv("OVZ_LXCFS");
  const std::filesystem::path dir = set && *set ? set : "/var/lib/lxcfs";
  // Its directory, mounted: FUSE underneath (an empty directory is LXCFS installed but not
  // running, whose files a bind would not find).
  struct statfs fs {};
  if (::statfs((dir / "proc" / "meminfo").c_str(), &fs) != 0 || fs.f_type != fuse_magic)
    return std::nullopt;
  return dir;
}

result<proc_views_source> proc_views_source_for(const ve_paths& l) {
  BOOST_OUTCOME_TRY(module, probe_ovz_module());
  // Not user_beancounters: an attach needs a file to cover, and the VE's procfs has none of
  // that name (the module makes it a /proc entry of its own).
  if (module && module->proc_views)
    return proc_views_source{.what = proc_views_source::kind::module, .dir = l.proc_views,
                             .files = {"meminfo", "cpuinfo", "stat", "loadavg", "uptime",
                                       "diskstats", "swaps"}};
  if (auto lxcfs = lxcfs_here()) {
    // Its uptime only where the VE has no time namespace to count its own.
    proc_views_source s{.what = proc_views_source::kind::lxcfs, .dir = *lxcfs / "proc",
                        .files = {"meminfo", "cpuinfo", "stat", "loadavg", "diskstats", "swaps"}};
    if (!has_time_namespaces()) s.files.push_back("uptime");
    return s;
  }
  return proc_views_source{};
}

result<proc_views_mount> proc_views_mount::mount(const std::filesystem::path& where) {
  std::error_code ec;
  std::filesystem::create_directories(where, ec);
  if (ec) return sys_fail(ec.value(), "create {}", where.string());
  // A mount a crashed start left here goes first; the VEs that bound its files keep them.
  ::umount2(where.c_str(), MNT_DETACH);
  // Owned from here: a failure below leaves neither the mount nor the directory.
  proc_views_mount held(where);
  if (::mount("ovzproc", where.c_str(), OVZ_KMOD_FSTYPE, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
              nullptr) != 0)
    return sys_fail(errno, "mount {} on {}", OVZ_KMOD_FSTYPE, where.string());
  // Not seen in the host's other mount namespaces: it is the start's alone, for a moment.
  if (::mount(nullptr, where.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
    return sys_fail(errno, "make {} private", where.string());
  return held;
}

proc_views_mount::~proc_views_mount() {
  if (where_.empty()) return;
  if (::umount2(where_.c_str(), MNT_DETACH) != 0 && errno != EINVAL)  // EINVAL: not mounted
    log(log_level::warning, fmt::format("umount {}: {}", where_.string(), std::strerror(errno)));
  std::error_code ec;
  std::filesystem::remove(where_, ec);
}

result<std::vector<std::string>> proc_view_binds(pid_t init) {
  BOOST_OUTCOME_TRY(info, read_file(fmt::format("/proc/{}/mountinfo", init)));
  std::vector<std::string> binds;
  std::istringstream lines(info);
  for (std::string line; std::getline(lines, line);) {
    // "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER"
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point, word;
    if (!(fields >> id >> parent >> dev >> root >> mount_point)) continue;
    while (fields >> word && word != "-") {
    }
    if (fields >> word && (word == OVZ_KMOD_FSTYPE || word == "fuse.lxcfs"))
      binds.push_back(mount_point);
  }
  return binds;
}

namespace {

constexpr std::string_view external_prefix = "ovzproc";

}  // namespace

std::vector<std::string> proc_view_externals(const std::vector<std::string>& binds) {
  std::vector<std::string> out;
  for (const auto& b : binds) out.push_back(fmt::format("mnt[{}]:{}{}", b, external_prefix, b));
  return out;
}

std::vector<std::string> proc_view_externals(const std::vector<std::string>& binds,
                                             const std::filesystem::path& source) {
  std::vector<std::string> out;
  for (const auto& b : binds)
    out.push_back(fmt::format("mnt[{}{}]:{}", external_prefix, b,
                              (source / std::filesystem::path(b).filename()).string()));
  return out;
}

result<void> update_module_view(pid_t init, const module_ve& view) {
  auto fd = open_ovz_module();
  if (!fd && fd.error().sys_errno() == ENOENT) return success();
  if (!fd) return fd.error();
  unique_fd pidfd(pidfd_open(init));
  if (!pidfd) return sys_fail(errno, "pidfd_open {}", init);
  module_ve m = view;
  m.pidfd = pidfd.get();
  auto updated = update_ve(fd->get(), m);
  // Not registered: started before the module was loaded, its views are the host's anyway.
  if (!updated && updated.error().sys_errno() == ENOENT) return success();
  return updated;
}

result<std::vector<unique_fd>> proc_view_trees(const ve_plan& plan, std::vector<fs_step>& steps) {
  std::vector<unique_fd> trees;
  for (const auto& file : plan.proc_views.files) {
    BOOST_OUTCOME_TRY(tree, cloned_tree(plan.proc_views.dir / file));
    fs_step s;
    s.what = fs_step::kind::attach;
    s.fd = tree.get();
    s.target = (plan.root / "proc" / file).string();
    steps.push_back(std::move(s));
    trees.push_back(std::move(tree));
  }
  return trees;
}

result<unique_fd> module_file_for(const ve_plan& plan) {
  if (plan.proc_views.what != proc_views_source::kind::module) return unique_fd{};
  return open_ovz_module();
}

result<void> register_init(int module_fd, const ve_plan& plan, pid_t init, int cgroup_fd) {
  if (module_fd < 0) return success();
  unique_fd pidfd(pidfd_open(init));
  if (!pidfd) return sys_fail(errno, "pidfd_open {}", init);
  module_ve m = plan.module;
  m.pidfd = pidfd.get();
  m.cgroup_fd = cgroup_fd;
  return register_ve(module_fd, m);
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

view_backends view_backends_here() {
  const bool lxcfs = detail::lxcfs_here().has_value();
  const bool timens = detail::has_time_namespaces();
  view_backends b{.uptime = timens ? "time namespace" : lxcfs ? "LXCFS" : "host",
                  .proc_files = lxcfs ? "LXCFS" : "host",
                  .beancounters = "cgroup files",
                  .module = "not loaded"};
  auto module = detail::probe_ovz_module();
  if (!module) {
    b.module = module.error().message();
  } else if (*module) {
    b.module = fmt::format("ABI {}.{}", (*module)->major, (*module)->minor);
    b.module_loaded = true;
    if ((*module)->proc_views) b.uptime = b.proc_files = "ovz module";
  }
  return b;
}

}  // namespace ovz::inline v0
