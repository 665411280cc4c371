#include "kernel/ovz_module.hpp"

#include "fail.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
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

std::optional<unique_fd> open_ovz_module_with(bool ovz_module_info::*feature) {
  auto info = probe_ovz_module();
  if (!info || !*info || !((**info).*feature)) return std::nullopt;
  auto fd = open_ovz_module();
  if (!fd) return std::nullopt;
  return std::move(*fd);
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

namespace {

// A newer module may send a longer header or longer records (fields added at their end): each
// is read up to what this library knows, at the place the header says.
result<module_snapshot> parse_snapshot(const unsigned char* data, std::size_t n) {
  ovz_kmod_snapshot_header h{};
  std::memcpy(&h, data, sizeof h);
  if (h.size < sizeof h || h.record_size < sizeof(ovz_kmod_counters) ||
      n < h.size + std::size_t{h.returned} * h.record_size)
    return fail(errc::unsupported,
                "read {}: a snapshot of {} bytes with a header of {} and {} records of {}: not "
                "this library's ABI {}",
                OVZ_KMOD_DEVICE, n, h.size, h.returned, h.record_size, OVZ_KMOD_ABI_MAJOR);
  module_snapshot s;
  s.ves.reserve(h.returned);
  for (std::size_t i = 0; i < h.returned; ++i) {
    ovz_kmod_counters c{};
    std::memcpy(&c, data + h.size + i * h.record_size, sizeof c);
    s.ves.push_back(module_counters{
        .name = std::string(c.name, strnlen(c.name, sizeof c.name)),
        .memcg = {.memory = c.memory_usage, .memory_peak = c.memory_peak,
                  .memory_failcnt = c.memory_failcnt, .swap = c.swap_usage,
                  .swap_failcnt = c.swap_failcnt, .kmem = c.kmem_usage},
        .start_boottime_ns = c.start_boottime_ns});
  }
  std::sort(s.ves.begin(), s.ves.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return s;
}

// A new snapshot into `buf` (pread at 0: read() would move past it); the bytes read.
result<std::size_t> pread_snapshot(int module_fd, void* buf, std::size_t size) {
  const ssize_t n = ::pread(module_fd, buf, size, 0);
  if (n < 0) return sys_fail(errno, "pread {}", OVZ_KMOD_DEVICE);
  if (static_cast<std::size_t>(n) < sizeof(ovz_kmod_snapshot_header))
    return fail(errc::unsupported, "read {}: {} bytes, less than a snapshot's header",
                OVZ_KMOD_DEVICE, n);
  return static_cast<std::size_t>(n);
}

}  // namespace

result<std::uint64_t> read_generation(int module_fd) {
  ovz_kmod_snapshot_header h{};
  BOOST_OUTCOME_TRY(pread_snapshot(module_fd, &h, sizeof h));
  return h.generation;
}

result<module_snapshot> read_snapshot(int module_fd, std::vector<unsigned char>& buffer) {
  constexpr std::size_t room_for_16 =
      sizeof(ovz_kmod_snapshot_header) + 16 * sizeof(ovz_kmod_counters);
  if (buffer.size() < room_for_16) buffer.resize(room_for_16);
  // VEs registered between the count and the read make it fall short again: a few tries.
  for (int attempt = 0; attempt < 4; ++attempt) {
    BOOST_OUTCOME_TRY(n, pread_snapshot(module_fd, buffer.data(), buffer.size()));
    ovz_kmod_snapshot_header h{};
    std::memcpy(&h, buffer.data(), sizeof h);
    if (h.returned >= h.count) return parse_snapshot(buffer.data(), n);
    const std::size_t needed =
        std::size_t{h.size} + (std::size_t{h.count} + 16) * std::max<std::size_t>(h.record_size, 1);
    buffer.resize(std::max(needed, buffer.size() * 2));
  }
  return sys_fail(EAGAIN, "read {}: VEs registered faster than a snapshot could hold them",
                  OVZ_KMOD_DEVICE);
}

}  // namespace ovz::detail
