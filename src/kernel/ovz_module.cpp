#include "kernel/ovz_module.hpp"

#include "fail.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cstring>
#include <tuple>

#include "ovz_kmod.h"

namespace ovz::detail {

static_assert(std::tuple_size_v<decltype(module_ve::ubc)> == OVZ_KMOD_UBC_COUNT);

result<unique_fd> open_ovz_module() {
  unique_fd fd(::open(OVZ_KMOD_DEVICE, O_RDWR | O_CLOEXEC));
  if (!fd) return sys_fail(errno, "open {}", OVZ_KMOD_DEVICE);
  return fd;
}

result<std::optional<ovz_module_info>> probe_ovz_module() {
  auto fd = open_ovz_module();
  if (!fd && (fd.error().sys_errno() == ENOENT || fd.error().sys_errno() == ENXIO ||
              fd.error().sys_errno() == ENODEV))  // no node, or a node of an unloaded module
    return std::optional<ovz_module_info>{};
  if (!fd) return fd.error();
  ovz_kmod_version v{};
  v.size = sizeof v;
  if (::ioctl(fd->get(), OVZ_KMOD_IOC_VERSION, &v) != 0)
    return sys_fail(errno, "ioctl VERSION on {}: is it the ovz module's device?", OVZ_KMOD_DEVICE);
  if (v.major != OVZ_KMOD_ABI_MAJOR)
    return fail(errc::unsupported,
                "the ovz kernel module loaded speaks ABI {}.{}, this libovz speaks {}: load the "
                "module built from this libovz's kmod/, or run without it (rmmod ovz)",
                v.major, v.minor, OVZ_KMOD_ABI_MAJOR);
  return std::optional<ovz_module_info>(
      ovz_module_info{.major = v.major, .minor = v.minor,
                      .snapshot = (v.features & OVZ_KMOD_F_SNAPSHOT) != 0,
                      .poll = (v.features & OVZ_KMOD_F_POLL) != 0,
                      .proc_views = (v.features & OVZ_KMOD_F_PROCFS) != 0});
}

namespace {

result<ovz_kmod_ve> to_kmod(const module_ve& ve) {
  ovz_kmod_ve r{};
  r.size = sizeof r;
  r.pidfd = ve.pidfd;
  r.cgroup_fd = ve.cgroup_fd;
  r.cpus = ve.cpus;
  if (ve.name.empty() || ve.name.size() >= sizeof r.name)
    return fail(errc::invalid_argument, "VE name \"{}\" does not fit the module's {} bytes",
                ve.name, sizeof r.name - 1);
  std::memcpy(r.name, ve.name.data(), ve.name.size());
  for (std::size_t i = 0; i < ve.ubc.size(); ++i) {
    r.ubc[i][0] = ve.ubc[i].first;
    r.ubc[i][1] = ve.ubc[i].second;
  }
  return r;
}

}  // namespace

result<void> register_ve(int module_fd, const module_ve& ve) {
  BOOST_OUTCOME_TRY(r, to_kmod(ve));
  if (::ioctl(module_fd, OVZ_KMOD_IOC_REGISTER, &r) != 0)
    return sys_fail(errno, "register VE {} with the ovz module ({})", ve.name, OVZ_KMOD_DEVICE);
  return success();
}

result<void> update_ve(int module_fd, const module_ve& ve) {
  BOOST_OUTCOME_TRY(r, to_kmod(ve));
  if (::ioctl(module_fd, OVZ_KMOD_IOC_UPDATE, &r) != 0)
    return sys_fail(errno, "update VE {} in the ovz module ({})", ve.name, OVZ_KMOD_DEVICE);
  return success();
}

}  // namespace ovz::detail
