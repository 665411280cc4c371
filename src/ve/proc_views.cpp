#include "ve/proc_views.hpp"

#include <ovz/host.hpp>
#include <ovz/ve_params.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "ve/locate.hpp"
#include "ve/ve_op.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include "ovz_kmod.h"

namespace ovz::detail {

result<std::filesystem::path> proc_views_source(const ve_paths& l) {
  BOOST_OUTCOME_TRY(module, probe_ovz_module());
  if (!module || !module->proc_views) return std::filesystem::path{};
  return l.proc_views;
}

result<proc_views_mount> proc_views_mount::mount(const std::filesystem::path& where) {
  std::error_code ec;
  std::filesystem::create_directories(where, ec);
  if (ec) return sys_fail(ec.value(), "create {}", where.string());
  // A mount a crashed start left here goes first; the VEs that bound its files keep them.
  ::umount2(where.c_str(), MNT_DETACH);
  if (::mount("ovzproc", where.c_str(), OVZ_KMOD_FSTYPE, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
              nullptr) != 0)
    return sys_fail(errno, "mount {} on {}", OVZ_KMOD_FSTYPE, where.string());
  // Not seen in the host's other mount namespaces: it is the start's alone, for a moment.
  if (::mount(nullptr, where.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
    int err = errno;
    ::umount2(where.c_str(), MNT_DETACH);
    return sys_fail(err, "make {} private", where.string());
  }
  return proc_views_mount(where);
}

proc_views_mount::~proc_views_mount() {
  if (where_.empty()) return;
  if (::umount2(where_.c_str(), MNT_DETACH) != 0)
    log(log_level::warning, fmt::format("umount {}: {}", where_.string(), std::strerror(errno)));
  std::error_code ec;
  std::filesystem::remove(where_, ec);
}

result<std::optional<module_registration>> register_with_module(const ve& v, int init) {
  BOOST_OUTCOME_TRY(module, probe_ovz_module());
  if (!module) return std::optional<module_registration>{};
  BOOST_OUTCOME_TRY(params, v.params());
  BOOST_OUTCOME_TRY(l, locate(v.state_root(), v.id()));
  BOOST_OUTCOME_TRY(h, ve_op::host_of(v));
  // On v2 the VE's own cgroup: its init (a systemd) may move itself into a sub-cgroup, and
  // the module would count that one's memory only.
  auto cg = h.services().cg().open(l.cgroup);
  if (!cg) return cg.error();
  module_ve m;
  m.pidfd = init;
  m.cgroup_fd = h.services().cg().clone_fd(*cg);
  m.name = std::to_string(v.id().value());
  m.cpus = params.cpu.cpus.value_or(0);
  for (auto& u : m.ubc) u = {OVZ_KMOD_UNLIMITED, OVZ_KMOD_UNLIMITED};
  for (const auto& [r, value] : params.ubc)
    m.ubc[static_cast<std::size_t>(r)] = {value.barrier, value.limit};
  BOOST_OUTCOME_TRY(reg, module_registration::open(m));
  return std::optional<module_registration>(std::move(reg));
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

view_backends view_backends_here() {
  view_backends b{.uptime = ::access("/proc/self/ns/time", F_OK) == 0 ? "time namespace" : "host",
                  .proc_files = "host",
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
