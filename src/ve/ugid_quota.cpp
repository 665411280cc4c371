// The second level of a VE's disk quota: its users' and groups' own limits, kept by the
// kernel in the user and group quota of the VE's image.

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/ext4_image.hpp"
#include "kernel/ext4_quota.hpp"
#include "model/id_range.hpp"
#include "ve/storage.hpp"
#include "ve/ugid_quota.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

namespace ovz::detail {
namespace {

quota_kind kind_of(quota_ugid::kind k) {
  return k == quota_ugid::kind::user ? quota_kind::user : quota_kind::group;
}

const char* name_of(quota_ugid::kind k) { return k == quota_ugid::kind::user ? "user" : "group"; }

// The VE's disk, mounted, with the host id its root's files are stored as: a VE in a user
// namespace keeps its ids shifted by that base.
struct second_level {
  mounted_disk disk;
  std::uint32_t base = 0;
  std::uint64_t limit = 0;  // QUOTAUGIDLIMIT
};

result<second_level> open_second_level(const ve_op& op) {
  const auto& l = op.layout;
  if (storage_kind_of(l) != storage_kind::image)
    return fail(errc::unsupported,
                "VE {} has no quota of its users and groups: it was created without a "
                "diskspace, so its files are not on a disk of its own",
                l.id.value());
  if (quota_features_of(l.disk_image).find("quota") != 0)
    return fail(errc::unsupported,
                "VE {} has no quota of its users and groups: its disk image {} was made "
                "without ext4's quota feature ({})",
                l.id.value(), l.disk_image.string(),
                kernel_has_quota_format() ? "where the kernel kept no quota"
                                          : "this kernel keeps none");
  BOOST_OUTCOME_TRY(params, params_from_config(op.conf));
  BOOST_OUTCOME_TRY(disk, mount_disk(l, params.disk));
  struct stat st {};
  if (::fstatat(disk.mount.get(), "fs", &st, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_fail(errno, "stat fs in {}", l.disk_image.string());
  return second_level{std::move(disk), st.st_uid, params.disk.quotaugidlimit.value_or(0)};
}

bool has_limits(const id_usage& u) { return u.limits != id_limits{}; }

}  // namespace

// A VE in a user namespace owns ve_id_count ids from its base; a VE without one, all.
std::optional<std::uint32_t> id_inside(std::uint32_t base, std::uint32_t host_id) {
  if (host_id < base) return std::nullopt;
  if (base != 0 && host_id - base >= ve_id_count) return std::nullopt;
  return host_id - base;
}

result<void> set_owner_limits(int disk, quota_kind kind, std::uint32_t base, std::uint32_t id,
                              std::uint64_t ugid_limit, const id_limits& wanted) {
  const char* who = kind == quota_kind::user ? "user" : "group";
  if (ugid_limit == 0)
    return fail(errc::unsupported,
                "{} {}: QUOTAUGIDLIMIT is 0, which turns the quota of the VE's users and "
                "groups off; set it to how many may have limits",
                who, id);
  if (base != 0 && id >= ve_id_count)
    return fail(errc::invalid_argument, "{} {}: the VE's user namespace has ids 0 to {}", who,
                id, ve_id_count - 1);
  const std::uint32_t host_id = base + id;
  if (wanted != id_limits{}) {
    // QUOTAUGIDLIMIT counts the users and groups with limits, this one included.
    std::uint64_t limited = 1;
    for (auto k : {quota_kind::user, quota_kind::group}) {
      BOOST_OUTCOME_TRY(all, all_usage_of(disk, k));
      limited += std::count_if(all.begin(), all.end(), [&](const id_usage& u) {
        return has_limits(u) && id_inside(base, u.id) && !(k == kind && u.id == host_id);
      });
    }
    if (limited > ugid_limit)
      return fail(errc::invalid_argument,
                  "{} {}: QUOTAUGIDLIMIT {} users and groups with limits are as many as the "
                  "VE may have; raise it, or remove another's",
                  who, id, ugid_limit);
  }
  return set_id_limits(disk, kind, host_id, wanted);
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::set_ugid_quota(quota_ugid owner, std::optional<disk_limit> blocks,
                                std::optional<disk_limit> inodes) {
  using namespace detail;
  return ve_op::run(*this, {.lock = true, .config = true}, [&](ve_op& op) -> result<void> {
    if ((blocks && blocks->soft > blocks->hard) || (inodes && inodes->soft > inodes->hard))
      return fail(errc::invalid_argument, "{} {}: a soft limit above its hard one",
                  name_of(owner.type), owner.id);
    BOOST_OUTCOME_TRY(s, open_second_level(op));
    const auto kind = kind_of(owner.type);
    // Unchanged where not given: the limits the disk holds now.
    id_limits now{};
    if (s.base == 0 || owner.id < ve_id_count) {
      BOOST_OUTCOME_TRY(held, usage_of(s.disk.mount.get(), kind, s.base + owner.id));
      now = held.limits;
    }
    return set_owner_limits(s.disk.mount.get(), kind, s.base, owner.id, s.limit,
                            {.kib = blocks.value_or(now.kib), .inodes = inodes.value_or(now.inodes)});
  });
}

result<std::vector<ugid_quota>> ve::ugid_quotas() const {
  using namespace detail;
  return ve_op::run(*this, {.config = true},
                    [&](ve_op& op) -> result<std::vector<ugid_quota>> {
                      BOOST_OUTCOME_TRY(s, open_second_level(op));
                      std::vector<ugid_quota> out;
                      for (auto type : {quota_ugid::kind::user, quota_ugid::kind::group}) {
                        BOOST_OUTCOME_TRY(all, all_usage_of(s.disk.mount.get(), kind_of(type)));
                        for (const auto& u : all) {
                          const auto id = id_inside(s.base, u.id);
                          if (!id) continue;
                          out.push_back(
                              {.owner = {.type = type, .id = *id},
                               .blocks = {.usage = u.kib,
                                          .soft = u.limits.kib.soft,
                                          .hard = u.limits.kib.hard,
                                          .grace = grace_left(u.kib_grace_ends)},
                               .inodes = {.usage = u.inodes,
                                          .soft = u.limits.inodes.soft,
                                          .hard = u.limits.inodes.hard,
                                          .grace = grace_left(u.inodes_grace_ends)}});
                        }
                      }
                      return out;
                    });
}

}  // namespace ovz::inline v0
