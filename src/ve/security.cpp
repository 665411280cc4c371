// A VE's confinement settings, and device nodes granted or revoked live.

#include <ovz/seccomp.hpp>
#include <ovz/security.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/layout.hpp"
#include "ve/change.hpp"
#include "ve/devices.hpp"
#include "ve/lock.hpp"
#include "ve/runtime.hpp"
#include "ve/userns.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace ovz {
namespace {

bool has_node(const std::vector<detail::host_devnode>& nodes, const std::string& name) {
  return std::any_of(nodes.begin(), nodes.end(), [&](const auto& n) { return n.name == name; });
}

// The granted nodes present in a VE's /dev: device nodes other than the ones every VE has.
std::vector<std::string> granted_in(const std::filesystem::path& dev) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dev, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().lexically_relative(dev).string();
    if (parse_devnodes(name + ":r").has_error()) {  // a built-in node, or below pts or shm
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_character_file(ec) || it->is_block_file(ec)) names.push_back(name);
  }
  return names;
}

// The running VE's /dev and device cgroup follow `after` exactly: the rules first, so that a
// revoked node is unusable before it disappears and a granted one is allowed before it
// appears. A grant made live without saving lasts until the next change or the stop. The
// nodes are made from the host through /proc/PID/root, which resolves in the VE's mount
// namespace.
result<void> apply_devnodes(detail::cgroup_backend& cg, const detail::ve_layout& l, pid_t init,
                            const std::vector<detail::host_devnode>& after) {
  BOOST_OUTCOME_TRY(cg.allow_devices(l.cgroup, detail::ve_device_rules(after)));
  const std::string dev = fmt::format("/proc/{}/root/dev", init);
  for (const auto& name : granted_in(dev)) {
    if (has_node(after, name)) continue;
    const auto path = dev + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return detail::sys_fail(errno, "remove {}", path);
  }
  for (const auto& step : detail::devnode_steps(dev, after, false)) {
    if (step.what == fs_step::kind::mkdir) {
      if (::mkdir(step.target.c_str(), step.mode) != 0 && errno != EEXIST)
        return detail::sys_fail(errno, "mkdir {}", step.target);
      continue;
    }
    // Re-made, so that a changed host node (major:minor, mode) is followed.
    (void)::unlink(step.target.c_str());
    if (::mknod(step.target.c_str(), step.mode, step.dev) != 0)
      return detail::sys_fail(errno, "mknod {}", step.target);
    if (::chmod(step.target.c_str(), step.mode & 07777) != 0)
      return detail::sys_fail(errno, "chmod {}", step.target);
  }
  return success();
}

}  // namespace

result<ve_security> ve::security() const {
  BOOST_OUTCOME_TRY(conf, config());
  return security_from_config(conf);
}

namespace detail {

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
          (void)apply_devnodes(site.cg, site.layout, site.init_pid, old);
        };
      }
      if (auto ok = apply_devnodes(site.cg, site.layout, site.init_pid, nodes); !ok) {
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

}  // namespace detail

result<void> ve::set_security(const security_changes& changes, bool save) {
  return apply({.security = changes}, save);
}

}  // namespace ovz
