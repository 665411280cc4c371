// A VE's confinement settings, and device nodes granted or revoked live.

#include <ovz/seccomp.hpp>
#include <ovz/security.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/change.hpp"
#include "ve/devices.hpp"
#include "ve/lock.hpp"
#include "ve/userns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace ovz::inline v0 {
namespace {

bool has_node(const std::vector<detail::host_devnode>& nodes, const std::string& name) {
  return std::any_of(nodes.begin(), nodes.end(), [&](const auto& n) { return n.name == name; });
}

// Below the VE's /dev the host follows nothing the VE may have planted: no symlink, no "..",
// no other mount (pts, shm). Every change is made relative to a directory descriptor so
// that a path swapped between two steps cannot lead out of the VE's /dev either.
constexpr std::uint64_t in_dev = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
// Deeper than any node name a grant has; a VE's deep tree must not exhaust the host's stack.
constexpr int max_depth = 8;

// The granted nodes present in the directory `dir` of a VE's /dev (`prefix` is its name
// there): device nodes other than the ones every VE has.
void granted_in(int dir, const std::string& prefix, int depth, std::vector<std::string>& names) {
  unique_fd listed(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* d = listed ? ::fdopendir(listed.get()) : nullptr;
  if (!d) return;
  (void)listed.release();  // closedir closes it
  while (const dirent* e = ::readdir(d)) {
    const std::string_view entry = e->d_name;
    if (entry == "." || entry == "..") continue;
    const auto name = prefix + e->d_name;
    if (parse_devnodes(name + ":r").has_error()) continue;  // a built-in node, pts or shm
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) names.push_back(name);
    if (!S_ISDIR(st.st_mode) || depth >= max_depth) continue;
    unique_fd sub(::openat(::dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub) granted_in(sub.get(), name + "/", depth + 1, names);
  }
  ::closedir(d);
}

// The directory of `name` (a path below the VE's /dev) and its last component.
struct dev_entry {
  unique_fd dir;
  std::string base;
};

result<dev_entry> entry_of(int dev, const std::string& name) {
  const std::filesystem::path p(name);
  const auto parent = p.parent_path().string();
  auto dir = detail::open_below(dev, parent.empty() ? "." : parent, O_PATH | O_DIRECTORY, in_dev);
  if (!dir)
    return detail::sys_fail(dir.error().sys_errno(),
                            "/dev/{} in the VE is not a directory of its own (a symlink or "
                            "another mount)",
                            parent);
  return dev_entry{std::move(dir).value(), p.filename().string()};
}

// The running VE's /dev and device cgroup follow `after` exactly: the rules first, so that a
// revoked node is unusable before it disappears and a granted one is allowed before it
// appears. A grant made live without saving lasts until the next change or the stop.
result<void> apply_devnodes(detail::cgroup_manager& cg, const detail::ve_layout& l, pid_t init,
                            const std::vector<detail::host_devnode>& after) {
  BOOST_OUTCOME_TRY(held, cg.open(l.cgroup));
  BOOST_OUTCOME_TRY(cg.resources().allow_devices(held, detail::ve_device_rules(after)));
  BOOST_OUTCOME_TRY(root, detail::open_root_of(init));
  // /dev is a mount of its own.
  BOOST_OUTCOME_TRY(dev, detail::open_below(root.get(), "dev", O_PATH | O_DIRECTORY,
                                            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS));
  std::vector<std::string> present;
  granted_in(dev.get(), "", 0, present);
  for (const auto& name : present) {
    if (has_node(after, name)) continue;
    BOOST_OUTCOME_TRY(e, entry_of(dev.get(), name));
    if (::unlinkat(e.dir.get(), e.base.c_str(), 0) != 0 && errno != ENOENT)
      return detail::sys_fail(errno, "remove /dev/{} in the VE", name);
  }
  for (const auto& step : detail::devnode_steps("", after, false)) {
    const auto name = step.target.substr(1);  // "/net/tun" -> "net/tun"
    BOOST_OUTCOME_TRY(e, entry_of(dev.get(), name));
    if (step.what == fs_step::kind::mkdir) {
      if (::mkdirat(e.dir.get(), e.base.c_str(), step.mode) != 0 && errno != EEXIST)
        return detail::sys_fail(errno, "mkdir /dev/{} in the VE", name);
      continue;
    }
    // Re-made, so that a changed host node (major:minor, mode) is followed; whatever the VE
    // put under that name (a symlink) goes.
    (void)::unlinkat(e.dir.get(), e.base.c_str(), 0);
    if (::mknodat(e.dir.get(), e.base.c_str(), step.mode, step.dev) != 0)
      return detail::sys_fail(errno, "mknod /dev/{} in the VE", name);
    // The mode is set apart from mknod, which the umask trims; NOFOLLOW in case the VE
    // replaced the node by a symlink since.
    if (::fchmodat(e.dir.get(), e.base.c_str(), step.mode & 07777, AT_SYMLINK_NOFOLLOW) != 0)
      return detail::sys_fail(errno, "chmod /dev/{} in the VE", name);
  }
  return success();
}

}  // namespace

result<ve_security> ve::security() const {
  BOOST_OUTCOME_TRY(conf, config());
  return security_from_config(conf);
}

}  // namespace ovz::inline v0

namespace ovz::detail {

result<undo_step> change_security(change_site& site, const security_changes& changes) {
  BOOST_OUTCOME_TRY(before, security_from_config(site.conf));
  BOOST_OUTCOME_TRY(after, with_changes(before, changes));
  if (changes.seccomp_profile && !after.seccomp_profile.empty() &&
      after.seccomp_profile != "unconfined") {
    // A profile that would not load fails now, not at the next start.
    BOOST_OUTCOME_TRY(seccomp_profile::load(after.seccomp_profile));
  }
  undo_step undo;
  if (site.init_pid) {
    const bool start_only = !changes.capabilities.empty() || changes.seccomp_profile ||
                            changes.no_new_privs;
    if (start_only && !site.save)
      return fail(errc::invalid_argument,
                  "capabilities, the seccomp profile and no_new_privs cannot change in running "
                  "processes; save them to apply at the next start and to new commands run "
                  "inside");
    // A user namespace's /dev is nodev for nodes the host makes there, and the host cannot
    // bind into the VE's mount namespace from a multi-threaded process.
    BOOST_OUTCOME_TRY(own_userns, in_other_userns(site.init_pid));
    if (!changes.devnodes.empty() && own_userns && !site.save)
      return fail(errc::unsupported,
                  "a VE in a user namespace gets device nodes at its start only; save the "
                  "change and restart it");
    if (!changes.devnodes.empty() && !own_userns) {
      BOOST_OUTCOME_TRY(nodes, resolve_devnodes(after.devnodes));
      // A node granted before whose host node has gone since cannot be put back; the rest is.
      if (auto old_nodes = resolve_devnodes(before.devnodes)) {
        undo = [&site, old = std::move(*old_nodes)] {
          logged(apply_devnodes(site.host.cg(), site.layout, site.init_pid, old),
                 "rollback of the device nodes");
        };
      }
      if (auto ok = apply_devnodes(site.host.cg(), site.layout, site.init_pid, nodes); !ok) {
        if (undo) undo();
        return ok.error();
      }
    }
  } else if (!changes.devnodes.empty()) {
    // Checked now rather than at the next start: a name the host lacks is a typo.
    BOOST_OUTCOME_TRY(resolve_devnodes(after.devnodes));
  }
  if (site.writes_conf()) {
    if (auto ok = security_to_config(after, site.conf); !ok) {
      if (undo) undo();
      return ok.error();
    }
  }
  return undo;
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::set_security(const security_changes& changes, bool save) {
  return apply({.security = changes}, save);
}

}  // namespace ovz::inline v0
