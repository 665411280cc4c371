#pragma once
// Host uid/gid ranges of user-namespace VEs: CTID.conf's USERNS_MAP="<host base>:<count>",
// the /etc/subuid lines other users of the host hold, and the choice of a free range. Pure
// logic, no system calls.

#include <ovz/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// `count` host ids from `base`: a VE's root is `base` on the host, its uid N is base+N.
struct id_range {
  std::uint32_t base = 0;
  std::uint32_t count = 0;
  bool overlaps(const id_range& o) const noexcept {
    return std::uint64_t{base} < std::uint64_t{o.base} + o.count &&
           std::uint64_t{o.base} < std::uint64_t{base} + count;
  }
};

/// Where VE ranges start and how large each is: the conventional first subordinate id and
/// the 65536 ids a distribution's userland expects to have.
inline constexpr std::uint32_t first_ve_id = 100000;
inline constexpr std::uint32_t ve_id_count = 65536;

/// Parses USERNS_MAP's "<base>:<count>"; the range must not wrap past 2^32-1 nor map host
/// root (base 0).
result<id_range> parse_id_range(std::string_view text);
/// "<base>:<count>".
std::string format_id_range(const id_range& r);

/// The ranges of an /etc/subuid or /etc/subgid text ("name:start:count" lines). Lines that
/// do not parse are ignored, as shadow's tools ignore them.
std::vector<id_range> parse_subid(std::string_view text);

/// The lowest block of ve_id_count ids at first_ve_id + k*ve_id_count that overlaps none of
/// `taken`; nullopt when the id space is exhausted.
std::optional<id_range> free_id_range(const std::vector<id_range>& taken);

}  // namespace ovz::detail
