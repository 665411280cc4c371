#include "ve/disk_watch.hpp"

#include "ve/storage.hpp"
#include "ve/ve_op.hpp"

#include <sys/statfs.h>

#include <string>

namespace ovz::detail {
namespace {

// Usage as `df` inside shows it: the VE's root is an overlay, whose statfs is that of its
// upper layer's filesystem, the image; where ext4 keeps project quota, the project's, up to
// its soft limit.
std::optional<std::array<std::uint64_t, 2>> usage_of(pid_t init) {
  struct statfs st {};
  const auto root = "/proc/" + std::to_string(init) + "/root";
  if (::statfs(root.c_str(), &st) != 0) return std::nullopt;
  const auto kib = static_cast<std::uint64_t>(st.f_bsize) / 1024;
  return std::array<std::uint64_t, 2>{(st.f_blocks - st.f_bfree) * kib,
                                      st.f_files - st.f_ffree};
}

}  // namespace

disk_soft_watch::disk_soft_watch(const ve& v) {
  auto op = ve_op::begin(v, {});
  if (op && storage_kind_of(op->layout) == storage_kind::image) ve_.emplace(v);
}

std::vector<ubc_event> disk_soft_watch::look() {
  if (!ve_) return {};
  // A VE stopping or destroyed meanwhile, or a CTID.conf being rewritten: the next look.
  auto op = ve_op::begin(*ve_, {.config = true, .live = true});
  if (!op || !op->live.init_pid) return {};
  auto params = params_from_config(op->conf);
  auto usage = usage_of(op->live.init_pid);
  if (!params || !usage) return {};
  const auto& d = params->disk;
  const std::array<std::optional<disk_limit>, 2> limits = {d.diskspace, d.diskinodes};
  std::vector<ubc_event> events;
  for (std::size_t i = 0; i < limits.size(); ++i) {
    // A soft limit equal to the hard one is never crossed: the image or the kernel refuses.
    // Reaching it counts: ext4 shows a project at its soft limit as full, not beyond.
    const bool above = limits[i] && limits[i]->soft < limits[i]->hard &&
                       (*usage)[i] >= limits[i]->soft;
    if (above && !above_[i] && !first_) {
      ++crossings_[i];
      events.push_back(ubc_event{.id = ve_->id(),
                                 .failcnt = crossings_[i],
                                 .previous = crossings_[i] - 1,
                                 .disk = i == 0 ? disk_resource::diskspace
                                                : disk_resource::diskinodes});
    }
    above_[i] = above;
  }
  first_ = false;
  return events;
}

}  // namespace ovz::detail
