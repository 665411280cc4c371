// The C ABI of a VE's disk quota (ovz.h's ovz_ve_quota, ovz_ve_*ugid_quota*): its usage against
// its limits, and the limits of each user and group inside it.

#include <ovz.h>

#include "c_structs.hpp"
#include "c_support.hpp"
#include "c_ve.hpp"

#include <ovz/disk_quota.hpp>
#include <ovz/ve.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <tuple>

using namespace ovz_c;

extern "C" {

namespace {

ovz_disk_usage usage_row(const ovz::disk_usage& u) {
  return ovz_disk_usage{
      .usage = u.usage, .soft = u.soft, .hard = u.hard, .grace = u.grace.value_or(OVZ_QUOTA_NO_GRACE)};
}

}  // namespace

int ovz_ve_quota(ovz_ve_t* ve, ovz_disk_quota* out, size_t size) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_quota: ve or out is NULL");
    auto q = ve->v.quota();
    if (!q) return fail(q.error());
    const ovz_disk_quota c = {.blocks = usage_row(q->blocks),
                              .inodes = usage_row(q->inodes),
                              .quotatime = q->quotatime,
                              .soft_enforced = q->soft_enforced ? 1 : 0};
    return fill_sized(out, c, size, "ovz_ve_quota");
  });
}

int ovz_ve_set_ugid_quota(ovz_ve_t* ve, ovz_quota_ugid owner, const char* blocks,
                          const char* inodes) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_set_ugid_quota: ve is NULL");
    if (owner.type != OVZ_QUOTA_USER && owner.type != OVZ_QUOTA_GROUP)
      return invalid("ovz_ve_set_ugid_quota: owner.type is neither OVZ_QUOTA_USER nor "
                     "OVZ_QUOTA_GROUP");
    std::optional<ovz::disk_limit> b, i;
    for (auto [text, to, in_blocks] : {std::tuple{blocks, &b, true}, {inodes, &i, false}}) {
      if (!text) continue;
      auto l = ovz::parse_disk_limit(text, in_blocks);
      if (!l) return fail(l.error());
      *to = l.value();
    }
    const ovz::quota_ugid who{.type = owner.type == OVZ_QUOTA_USER ? ovz::quota_ugid::kind::user
                                                                    : ovz::quota_ugid::kind::group,
                              .id = owner.id};
    auto set = ve->v.set_ugid_quota(who, b, i);
    if (!set) return fail(set.error());
    return 0;
  });
}

int ovz_ve_ugid_quotas(ovz_ve_t* ve, ovz_ugid_quota* out, size_t size, size_t capacity,
                       size_t* count) {
  return guarded([&] {
    if (!ve || !count || (!out && capacity > 0) || (capacity > 0 && size == 0))
      return invalid("ovz_ve_ugid_quotas: ve or count is NULL, or out NULL or size 0 with "
                     "capacity");
    auto all = ve->v.ugid_quotas();
    if (!all) return fail(all.error());
    auto* base = reinterpret_cast<char*>(out);
    for (size_t n = 0; n < std::min(capacity, all->size()); ++n) {
      const auto& q = (*all)[n];
      const ovz_ugid_quota c = {
          .owner = {.type = q.owner.type == ovz::quota_ugid::kind::user ? OVZ_QUOTA_USER
                                                                        : OVZ_QUOTA_GROUP,
                    .id = q.owner.id},
          .blocks = usage_row(q.blocks),
          .inodes = usage_row(q.inodes)};
      std::memcpy(base + n * size, &c, std::min(size, sizeof c));
    }
    *count = all->size();
    return 0;
  });
}

}  // extern "C"
