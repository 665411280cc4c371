#pragma once
/// @file
/// Beancounters: OpenVZ's per-VE resource counters, each with a held value, its peak, a
/// barrier, a limit and a count of refusals (failcnt), in OpenVZ's names and units.

#include <ovz/ctid.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

/// The beancounters of /proc/user_beancounters, in its order.
enum class ubc_resource {
  kmemsize,
  lockedpages,
  privvmpages,
  shmpages,
  numproc,
  physpages,
  vmguarpages,
  oomguarpages,
  numtcpsock,
  numflock,
  numpty,
  numsiginfo,
  tcpsndbuf,
  tcprcvbuf,
  othersockbuf,
  dgramrcvbuf,
  numothersock,
  dcachesize,
  numfile,
  numiptent,
  swappages,
};

/// Every resource, in report order.
OVZ_API const std::vector<ubc_resource>& all_ubc_resources();

/// "numproc", "physpages", …
OVZ_API const char* to_string(ubc_resource r) noexcept;
/// The resource of a name (case-insensitive, as vzctl's --numproc or CTID.conf's NUMPROC).
OVZ_API result<ubc_resource> parse_ubc_resource(std::string_view name);
/// The CTID.conf key: "NUMPROC", "PHYSPAGES", …
OVZ_API std::string conf_key(ubc_resource r);
/// True for the *pages resources, counted in pages; the others count bytes or items.
OVZ_API bool counts_pages(ubc_resource r) noexcept;

/// OpenVZ's "no limit": LONG_MAX.
inline constexpr std::uint64_t ubc_unlimited = 9223372036854775807ull;

/// A barrier:limit pair, in the resource's units.
struct ubc_value {
  std::uint64_t barrier = ubc_unlimited;
  std::uint64_t limit = ubc_unlimited;
  bool operator==(const ubc_value&) const = default;
};

/// Parses vzctl's syntax: "B" or "B:L", each a number with an optional suffix K, M, G or T
/// (binary multiples; for *pages resources the result is converted to pages), P (pages, only
/// for *pages resources), or "unlimited". A lone "B" sets barrier and limit alike. Negative
/// numbers, garbage, overflow and limit < barrier are refused with errc::invalid_argument.
OVZ_API result<ubc_value> parse_ubc_value(ubc_resource r, std::string_view text);
/// "B:L" as CTID.conf stores it, with "unlimited" for ubc_unlimited.
OVZ_API std::string format_ubc_value(const ubc_value& v);

/// One line of the report.
struct ubc_stat {
  ubc_resource resource = ubc_resource::kmemsize;
  std::uint64_t held = 0;
  std::uint64_t maxheld = 0;
  std::uint64_t barrier = ubc_unlimited;
  std::uint64_t limit = ubc_unlimited;
  std::uint64_t failcnt = 0;
  /// The host can measure held/maxheld for it (else they read 0 and say nothing).
  bool measured = false;
  /// The host enforces its limit (else barrier and limit are reported but not applied). Known
  /// only while the VE runs; false for a stopped VE.
  bool enforced = false;
};

/// A VE's beancounters.
struct ubc_snapshot {
  ctid id;
  std::vector<ubc_stat> stats;
};

/// The text of /proc/user_beancounters for these VEs: a "Version: 2.5" line, the column
/// header, and for each VE its lines, the first one prefixed by "CTID:".
OVZ_API std::string format_user_beancounters(const std::vector<ubc_snapshot>& ves);
/// Reads that text back; errc::bad_config naming the line on anything else.
OVZ_API result<std::vector<ubc_snapshot>> parse_user_beancounters(std::string_view text);

}  // namespace ovz::inline v0
