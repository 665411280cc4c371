// The C ABI of what a VE uses and is refused (ovz.h's ovz_ve_beancounters, ovz_ubc_*,
// ovz_ve_cpu_time): one VE's counters and CPU time, every VE's counters taken again and again
// by a reader, and a VE's refusals watched as they come.

#include <ovz.h>

#include "c_structs.hpp"
#include "c_support.hpp"
#include "c_ve.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/ubc_reader.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>
#include <ovz/ve_params.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace ovz_c;

extern "C" {

int ovz_ve_get_stats(ovz_ve_t* ve, ovz_ubc_stat* stats, size_t capacity, size_t* count) {
  return ovz_ve_beancounters(ve, stats, ubc_stat_size_0_1, capacity, count);
}

namespace {

ovz_ubc_stat c_stat(const ovz::ubc_stat& s) {
  return {.resource = ovz::to_string(s.resource),
          .held = s.held,
          .maxheld = s.maxheld,
          .barrier = s.barrier,
          .limit = s.limit,
          .failcnt = s.failcnt,
          .measured = s.measured ? 1 : 0,
          .enforced = s.enforced ? 1 : 0};
}

}  // namespace

int ovz_ve_beancounters(ovz_ve_t* ve, ovz_ubc_stat* stats, size_t stat_size, size_t capacity,
                        size_t* count) {
  return guarded([&] {
    if (!ve || !count || (!stats && capacity > 0) || (capacity > 0 && stat_size == 0))
      return invalid("ovz_ve_beancounters: ve or count is NULL, or stats NULL or stat_size 0 "
                     "with capacity");
    auto r = ve->v.beancounters();
    if (!r) return fail(r.error());
    const auto& all = r->stats;
    auto* base = reinterpret_cast<char*>(stats);
    for (size_t i = 0; i < std::min(capacity, all.size()); ++i) {
      const ovz_ubc_stat c = c_stat(all[i]);
      std::memcpy(base + i * stat_size, &c, std::min(stat_size, sizeof c));
    }
    *count = all.size();
    return 0;
  });
}

struct ovz_ubc_reader {
  ovz::ubc_reader reader;
  std::vector<ovz::ubc_snapshot> last;
};

int ovz_ubc_reader_open(ovz_ubc_reader_t** out, const char* root) {
  return ovz_ubc_reader_open_from(out, root, OVZ_UBC_SOURCES_ANY);
}

int ovz_ubc_reader_open_from(ovz_ubc_reader_t** out, const char* root, int sources) {
  return guarded([&] {
    if (!out) return invalid("ovz_ubc_reader_open: out is NULL");
    *out = nullptr;
    if (sources != OVZ_UBC_SOURCES_ANY && sources != OVZ_UBC_SOURCES_FILES_ONLY)
      return invalid("ovz_ubc_reader_open_from: sources " + std::to_string(sources) +
                     " is neither OVZ_UBC_SOURCES_ANY (0) nor OVZ_UBC_SOURCES_FILES_ONLY (1)");
    auto r = ovz::ubc_reader::open(root_path(root), sources == OVZ_UBC_SOURCES_FILES_ONLY
                                                        ? ovz::ubc_sources::files_only
                                                        : ovz::ubc_sources::any);
    if (!r) return fail(r.error());
    *out = new ovz_ubc_reader{std::move(*r), {}};
    return 0;
  });
}

namespace {

size_t row_count(const std::vector<ovz::ubc_snapshot>& snaps) {
  size_t n = 0;
  for (const auto& s : snaps) n += s.stats.size();
  return n;
}

}  // namespace

int ovz_ubc_reader_read(ovz_ubc_reader_t* reader, size_t* count) {
  return guarded([&] {
    if (!reader) return invalid("ovz_ubc_reader_read: reader is NULL");
    auto r = reader->reader.read();
    if (!r) return fail(r.error());
    reader->last = std::move(*r);
    if (count) *count = row_count(reader->last);
    return 0;
  });
}

int ovz_ubc_reader_rows(const ovz_ubc_reader_t* reader, ovz_ubc_row* rows, size_t row_size,
                        size_t capacity, size_t* count) {
  return guarded([&] {
    if (!reader || !count || (!rows && capacity > 0) || (capacity > 0 && row_size == 0))
      return invalid("ovz_ubc_reader_rows: reader or count is NULL, or rows NULL or row_size 0 "
                     "with capacity");
    auto* base = reinterpret_cast<char*>(rows);
    size_t i = 0;
    for (const auto& snap : reader->last) {
      for (const auto& s : snap.stats) {
        if (i < capacity) {
          const ovz_ubc_row c = {.ctid = snap.id.value(), .stat = c_stat(s)};
          std::memcpy(base + i * row_size, &c, std::min(row_size, sizeof c));
        }
        ++i;
      }
    }
    *count = i;
    return 0;
  });
}

int ovz_ubc_reader_report(const ovz_ubc_reader_t* reader, char** out) {
  return guarded([&] {
    if (!reader || !out) return invalid("ovz_ubc_reader_report: reader or out is NULL");
    *out = dup_string(ovz::format_user_beancounters(reader->last)).release();
    return 0;
  });
}

const char* ovz_ubc_reader_backend(const ovz_ubc_reader_t* reader) {
  // string_views of static storage, NUL-terminated.
  return reader ? reader->reader.backend().data() : nullptr;
}

void ovz_ubc_reader_free(ovz_ubc_reader_t* reader) { delete reader; }

struct ovz_ubc_watch {
  std::unique_ptr<ovz::ubc_event_queue> queue;
};

int ovz_ubc_watch_open(ovz_ubc_watch_t** out, ovz_ve_t* ve, const ovz_ubc_watch_options* opts) {
  return guarded([&] {
    if (!out || !ve) return invalid("ovz_ubc_watch_open: out or ve is NULL");
    *out = nullptr;
    std::chrono::milliseconds interval(1000);
    if (opts) {
      if (int rc = check_options(opts, "ovz_ubc_watch_options")) return rc;
      if (covers(*opts, &ovz_ubc_watch_options::poll_interval_ms))
        interval = std::chrono::milliseconds(opts->poll_interval_ms);
    }
    auto q = ovz::ubc_event_queue::start(ve->v, interval);
    if (!q) return fail(q.error());
    *out = new ovz_ubc_watch{std::move(*q)};
    return 0;
  });
}

int ovz_ubc_watch_next(ovz_ubc_watch_t* watch, int timeout_ms, ovz_ubc_event* event,
                       size_t size) {
  return guarded([&] {
    // Checked before an event is taken, which a refused copy would lose.
    if (!watch || !event || size == 0)
      return invalid("ovz_ubc_watch_next: watch or event is NULL, or size 0");
    auto e = watch->queue->next(std::chrono::milliseconds(timeout_ms < 0 ? -1 : timeout_ms));
    if (!e) return fail(e.error());
    if (!*e)
      return set_error(OVZ_ETIMEDOUT, 0,
                       "ovz_ubc_watch_next: no event within " + std::to_string(timeout_ms) + " ms");
    const ovz_ubc_event c = {.ctid = (*e)->id.value(),
                             .resource = ovz::resource_name(**e),
                             .failcnt = (*e)->failcnt,
                             .previous = (*e)->previous};
    return fill_sized(event, c, size, "ovz_ubc_watch_next");
  });
}

int ovz_ubc_watch_fd(const ovz_ubc_watch_t* watch) { return watch ? watch->queue->fd() : -1; }

void ovz_ubc_watch_free(ovz_ubc_watch_t* watch) { delete watch; }

int ovz_ubc_report(const char* root, char** out) {
  return guarded([&] {
    if (!out) return invalid("ovz_ubc_report: out is NULL");
    *out = nullptr;
    auto r = ovz::all_beancounters(root_path(root));
    if (!r) return fail(r.error());
    *out = dup_string(ovz::format_user_beancounters(*r)).release();
    return 0;
  });
}

int ovz_ve_get_ubc_limit(ovz_ve_t* ve, const char* resource, uint64_t* barrier,
                         uint64_t* limit) {
  return guarded([&] {
    if (!ve || !resource) return invalid("ovz_ve_get_ubc_limit: ve or resource is NULL");
    auto r = ovz::parse_ubc_resource(resource);
    if (!r) return fail(r.error());
    auto p = ve->v.params();
    if (!p) return fail(p.error());
    ovz::ubc_value v;  // unlimited unless CTID.conf sets it
    for (const auto& [res, value] : p->ubc)
      if (res == *r) v = value;
    if (barrier) *barrier = v.barrier;
    if (limit) *limit = v.limit;
    return 0;
  });
}

int ovz_ve_cpu_time(ovz_ve_t* ve, uint64_t* usec) {
  return guarded([&] {
    if (!ve || !usec) return invalid("ovz_ve_cpu_time: ve or usec is NULL");
    auto t = ve->v.cpu_time();
    if (!t) return fail(t.error());
    *usec = static_cast<uint64_t>(t->count());
    return 0;
  });
}

}  // extern "C"
