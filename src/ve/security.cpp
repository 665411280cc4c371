// A VE's confinement settings, and device nodes granted or revoked live.

#include <ovz/seccomp.hpp>
#include <ovz/security.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"
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

result<void> ve::set_security(const security_changes& changes, bool save) {
  const auto ctx = fmt::format("VE {}", id_.value());
  BOOST_OUTCOME_TRY(l, detail::locate(root_, id_));
  auto lock = detail::ve_lock::acquire(l.lock, id_);
  if (!lock) return lock.error();
  BOOST_OUTCOME_TRY(conf, config());
  auto before = security_from_config(conf);
  if (!before) return detail::with_context(before.error(), ctx);
  auto after = with_changes(*before, changes);
  if (!after) return detail::with_context(after.error(), ctx);
  if (changes.seccomp_profile && !after->seccomp_profile.empty() &&
      after->seccomp_profile != "unconfined") {
    // A profile that would not load fails now, not at the next start.
    auto profile = seccomp_profile::load(after->seccomp_profile);
    if (!profile) return detail::with_context(profile.error(), ctx);
  }
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  BOOST_OUTCOME_TRY(live, detail::probe(*cg, l));

  if (live.init_pid) {
    const bool start_only = !changes.capabilities.empty() || changes.seccomp_profile ||
                            changes.no_new_privs;
    if (start_only && !save)
      return detail::fail(errc::invalid_argument,
                          "{}: capabilities, the seccomp profile and no_new_privs cannot change "
                          "in running processes; save them to apply at the next start and to "
                          "new commands run inside",
                          ctx);
    // A user namespace's /dev is nodev for nodes the host makes there, and the host cannot
    // bind into the VE's mount namespace from a multi-threaded process.
    BOOST_OUTCOME_TRY(own_userns, detail::in_other_userns(live.init_pid));
    if (!changes.devnodes.empty() && own_userns && !save)
      return detail::fail(errc::unsupported,
                          "{}: a VE in a user namespace gets device nodes at its start only; "
                          "save the change and restart it",
                          ctx);
    if (!changes.devnodes.empty() && !own_userns) {
      auto nodes = detail::resolve_devnodes(after->devnodes);
      if (!nodes) return detail::with_context(nodes.error(), ctx);
      if (auto ok = apply_devnodes(*cg, l, live.init_pid, *nodes); !ok)
        return detail::with_context(ok.error(), ctx);
    }
  } else if (!changes.devnodes.empty()) {
    // Checked now rather than at the next start: a name the host lacks is a typo.
    auto nodes = detail::resolve_devnodes(after->devnodes);
    if (!nodes) return detail::with_context(nodes.error(), ctx);
  }
  if (save || !live.init_pid) {
    BOOST_OUTCOME_TRY(security_to_config(*after, conf));
    if (auto ok = conf.save(l.conf); !ok) return detail::with_context(ok.error(), ctx);
  }
  return success();
}

}  // namespace ovz
