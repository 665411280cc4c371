#pragma once
// The second level of a VE's disk quota, as both the host's API (ve::set_ugid_quota) and
// the VE's own quota tools (ve/quota_broker.hpp) set it: ids as the VE sees them, stored on
// its disk from a base (a user namespace's), and at most QUOTAUGIDLIMIT of them with limits.

#include <ovz/result.hpp>

#include "kernel/ext4_quota.hpp"

#include <cstdint>
#include <optional>

namespace ovz::detail {

/// The id a VE whose ids are stored from `base` knows the stored `host_id` by; none for an id
/// outside its user namespace.
std::optional<std::uint32_t> id_inside(std::uint32_t base, std::uint32_t host_id);

/// Sets the limits of the VE's `id` of `kind` on its mounted disk `disk` to `wanted`, unless
/// that would give more than `ugid_limit` users and groups limits (errc::invalid_argument).
result<void> set_owner_limits(int disk, quota_kind kind, std::uint32_t base, std::uint32_t id,
                              std::uint64_t ugid_limit, const id_limits& wanted);

}  // namespace ovz::detail
