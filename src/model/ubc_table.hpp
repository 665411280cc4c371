#pragma once
// One row per beancounter: everything libovz knows of how a resource meets the kernel. What
// its setting becomes (a cgroup limit, a per-process or devpts limit, or nothing), where its
// usage is counted, in which unit, and whether the kernel signals its refusals. The limits
// (ve/limits.cpp), the report (ve/resources.cpp), the failcnt watcher (ve/ubc_watch.cpp) and
// the parser's units (model/beancounter.cpp) all read it; a new resource or a new counter
// source is a row or a column value here, not an edit of each of them.

#include <ovz/beancounter.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace ovz::detail {

/// OpenVZ's page: the unit of the *pages resources. vzctl converts with the x86 page size
/// whatever the host's, and so does libovz, both ways: a setting in pages means the same bytes
/// on every host.
inline constexpr std::uint64_t ubc_page_size = 4096;

/// What a resource's numbers count.
enum class ubc_unit { items, bytes, pages };

/// The kernel limit a resource's setting becomes.
enum class ubc_limit {
  none,        // kept in CTID.conf and reported, never applied
  pids_max,    // the cgroup's task count, changed live
  memory_max,  // the cgroup's bytes of RAM, changed live
  swap_max,    // the cgroup's bytes of swap on top of RAM, changed live
  kmem_max,    // the cgroup's bytes of kernel memory (v1 only), changed live
  memory_min,  // bytes of the cgroup protected from reclaim, changed live
  memory_low,  // bytes protected while others have reclaimable memory, changed live
  devpts_max,  // the max= of the VE's devpts, at start
  nofile,      // RLIMIT_NOFILE of each VE process, at start
};

/// Which of the setting's barrier and limit the kernel limit takes.
enum class ubc_side { barrier, limit };

/// Where a resource's held, maxheld and failcnt come from.
enum class ubc_source {
  none,    // nothing on the host counts it: reported unmeasured
  cgroup,  // the VE's cgroup counters
  proc,    // a scan of the VE's processes in /proc
};

/// The counter of its source a resource reads, in the kernel's unit (bytes or items).
enum class ubc_counter {
  none,
  // cgroup
  pids,
  memory,
  swap,
  kmem,
  shmem,
  memory_and_swap,  // RAM and swap together, with the RAM's peak
  // proc
  files,
  tcp_sockets,
  other_sockets,
  locked,   // bytes
  privvm,   // bytes
  ptys,
  flocks,
};

struct ubc_row {
  ubc_resource resource;
  const char* name;  // as /proc/user_beancounters and vzctl's options spell it
  ubc_unit unit;
  ubc_limit limit;
  ubc_side side;
  ubc_source source;
  ubc_counter counter;
  bool watchable;  // the kernel signals a growing failcnt (ubc_watcher)
};

// clang-format off
/// Indexed by ubc_resource, in /proc/user_beancounters' order.
inline constexpr std::array<ubc_row, 21> ubc_rows = {{
  // resource                    name            unit             limit                  side             source               counter                      watchable
  {ubc_resource::kmemsize,     "kmemsize",     ubc_unit::bytes, ubc_limit::kmem_max,   ubc_side::limit,   ubc_source::cgroup, ubc_counter::kmem,            true},
  {ubc_resource::lockedpages,  "lockedpages",  ubc_unit::pages, ubc_limit::none,       ubc_side::limit,   ubc_source::proc,   ubc_counter::locked,          false},
  {ubc_resource::privvmpages,  "privvmpages",  ubc_unit::pages, ubc_limit::none,       ubc_side::limit,   ubc_source::proc,   ubc_counter::privvm,          false},
  {ubc_resource::shmpages,     "shmpages",     ubc_unit::pages, ubc_limit::none,       ubc_side::limit,   ubc_source::cgroup, ubc_counter::shmem,           false},
  {ubc_resource::numproc,      "numproc",      ubc_unit::items, ubc_limit::pids_max,   ubc_side::limit,   ubc_source::cgroup, ubc_counter::pids,            true},
  {ubc_resource::physpages,    "physpages",    ubc_unit::pages, ubc_limit::memory_max, ubc_side::limit,   ubc_source::cgroup, ubc_counter::memory,          true},
  {ubc_resource::vmguarpages,  "vmguarpages",  ubc_unit::pages, ubc_limit::memory_low, ubc_side::barrier, ubc_source::proc,   ubc_counter::privvm,          false},
  {ubc_resource::oomguarpages, "oomguarpages", ubc_unit::pages, ubc_limit::memory_min, ubc_side::barrier, ubc_source::cgroup, ubc_counter::memory_and_swap, false},
  {ubc_resource::numtcpsock,   "numtcpsock",   ubc_unit::items, ubc_limit::none,       ubc_side::limit,   ubc_source::proc,   ubc_counter::tcp_sockets,     false},
  {ubc_resource::numflock,     "numflock",     ubc_unit::items, ubc_limit::none,       ubc_side::limit,   ubc_source::proc,   ubc_counter::flocks,          false},
  {ubc_resource::numpty,       "numpty",       ubc_unit::items, ubc_limit::devpts_max, ubc_side::limit,   ubc_source::proc,   ubc_counter::ptys,            false},
  {ubc_resource::numsiginfo,   "numsiginfo",   ubc_unit::items, ubc_limit::none,       ubc_side::limit,   ubc_source::none,   ubc_counter::none,            false},
  {ubc_resource::tcpsndbuf,    "tcpsndbuf",    ubc_unit::bytes, ubc_limit::none,       ubc_side::limit,   ubc_source::none,   ubc_counter::none,            false},
  {ubc_resource::tcprcvbuf,    "tcprcvbuf",    ubc_unit::bytes, ubc_limit::none,       ubc_side::limit,   ubc_source::none,   ubc_counter::none,            false},
  {ubc_resource::othersockbuf, "othersockbuf", ubc_unit::bytes, ubc_limit::none,       ubc_side::limit,   ubc_source::none,   ubc_counter::none,            false},
  {ubc_resource::dgramrcvbuf,  "dgramrcvbuf",  ubc_unit::bytes, ubc_limit::none,       ubc_side::limit,   ubc_source::none,   ubc_counter::none,            false},
  {ubc_resource::numothersock, "numothersock", ubc_unit::items, ubc_limit::none,       ubc_side::limit,   ubc_source::proc,   ubc_counter::other_sockets,   false},
  {ubc_resource::dcachesize,   "dcachesize",   ubc_unit::bytes, ubc_limit::none,       ubc_side::limit,   ubc_source::none,   ubc_counter::none,            false},
  {ubc_resource::numfile,      "numfile",      ubc_unit::items, ubc_limit::nofile,     ubc_side::limit,   ubc_source::proc,   ubc_counter::files,           false},
  {ubc_resource::numiptent,    "numiptent",    ubc_unit::items, ubc_limit::none,       ubc_side::limit,   ubc_source::none,   ubc_counter::none,            false},
  {ubc_resource::swappages,    "swappages",    ubc_unit::pages, ubc_limit::swap_max,   ubc_side::limit,   ubc_source::cgroup, ubc_counter::swap,            true},
}};
// clang-format on

constexpr bool rows_in_enum_order() {
  for (std::size_t i = 0; i < ubc_rows.size(); ++i)
    if (static_cast<std::size_t>(ubc_rows[i].resource) != i) return false;
  return true;
}
static_assert(rows_in_enum_order() &&
              ubc_rows.size() == static_cast<std::size_t>(ubc_resource::swappages) + 1);

/// The row of a resource.
constexpr const ubc_row& row_of(ubc_resource r) { return ubc_rows[static_cast<std::size_t>(r)]; }

/// How many resources are watchable.
constexpr std::size_t watchable_count() {
  std::size_t n = 0;
  for (const auto& row : ubc_rows) n += row.watchable;
  return n;
}

/// A value of the resource in the kernel's unit (bytes for pages); nullopt for unlimited,
/// and for a number of pages too large to be a size in bytes.
std::optional<std::uint64_t> to_kernel_unit(ubc_resource r, std::uint64_t value);
/// A kernel value in the resource's unit (whole pages, rounded down); nullopt (the kernel's
/// no limit) is unlimited.
std::uint64_t from_kernel_unit(ubc_resource r, std::optional<std::uint64_t> value);

}  // namespace ovz::detail
