// The beancounter table and what reads it: one row per resource, units that convert both
// ways, limits and counters taken from the row, and the report's barrier and limit.

#include <catch2/catch.hpp>

#include "model/ubc_table.hpp"
#include "support/temp_root.hpp"
#include "ve/limits.hpp"
#include "ve/ubc_measure.hpp"

#include <set>

using namespace ovz;
using namespace ovz::detail;

namespace {

ve_params one(ubc_resource r, ubc_value v) {
  ve_params p;
  p.ubc.push_back({r, v});
  return p;
}

bool is_cgroup_limit(ubc_limit l) {
  return l != ubc_limit::none && l != ubc_limit::devpts_max && l != ubc_limit::nofile;
}

}  // namespace

TEST_CASE("every beancounter has exactly one row, found by its resource and its name",
          "[ubc_table]") {
  std::set<std::string> names;
  for (ubc_resource r : all_ubc_resources()) {
    INFO(to_string(r));
    int rows = 0;
    for (const auto& row : ubc_rows) rows += row.resource == r;
    CHECK(rows == 1);
    CHECK(row_of(r).resource == r);
    CHECK(names.insert(row_of(r).name).second);
    CHECK(MUST(parse_ubc_resource(row_of(r).name)) == r);
  }
  CHECK(ubc_rows.size() == all_ubc_resources().size());
}

TEST_CASE("units convert to the kernel's and back", "[ubc_table]") {
  for (ubc_resource r : all_ubc_resources()) {
    INFO(to_string(r));
    const bool pages = row_of(r).unit == ubc_unit::pages;
    CHECK(counts_pages(r) == pages);
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{77},
                            std::uint64_t{65536}, std::uint64_t{14790164}, ubc_unlimited}) {
      INFO(v);
      CHECK(from_kernel_unit(r, to_kernel_unit(r, v)) == v);
    }
    CHECK_FALSE(to_kernel_unit(r, ubc_unlimited));
    CHECK(to_kernel_unit(r, 3) == (pages ? 3 * ubc_page_size : 3));
    if (pages) {
      // As many pages as no byte count can hold mean no limit, not a wrapped-around one.
      CHECK_FALSE(to_kernel_unit(r, ubc_unlimited / ubc_page_size + 1));
      CHECK(from_kernel_unit(r, ubc_page_size * 2 + 100) == 2);  // whole pages
    }
  }
}

TEST_CASE("the table's columns agree with each other", "[ubc_table]") {
  for (const auto& row : ubc_rows) {
    INFO(row.name);
    // The kernel signals only refusals of a limit it applies to a counter of the cgroup.
    if (row.watchable) {
      CHECK(row.source == ubc_source::cgroup);
      CHECK(is_cgroup_limit(row.limit));
    }
    CHECK((row.source == ubc_source::none) == (row.counter == ubc_counter::none));
  }
  CHECK(watchable_count() == 4);
}

TEST_CASE("limits_for and fields_for write what each row's limit column says", "[ubc_table]") {
  for (const auto& row : ubc_rows) {
    INFO(row.name);
    // A value on the side the row takes; the other side unlimited (barrier side) or 0.
    const ubc_value v = row.side == ubc_side::barrier ? ubc_value{100, ubc_unlimited}
                                                      : ubc_value{0, 100};
    const auto p = one(row.resource, v);
    const unsigned fields = fields_for(p);
    CHECK((fields != 0) == is_cgroup_limit(row.limit));
    const cgroup_limits set = limits_for(p);
    const cgroup_limits unset = limits_for(ve_params{});
    const std::uint64_t expected = *to_kernel_unit(row.resource, 100);
    switch (row.limit) {
      case ubc_limit::pids_max: CHECK(set.pids_max == expected); break;
      case ubc_limit::memory_max: CHECK(set.memory_max == expected); break;
      case ubc_limit::swap_max: CHECK(set.swap_max == expected); break;
      case ubc_limit::kmem_max: CHECK(set.kmem_max == expected); break;
      case ubc_limit::memory_min: CHECK(set.memory_min == expected); break;
      case ubc_limit::memory_low: CHECK(set.memory_low == expected); break;
      default:
        CHECK(set.pids_max == unset.pids_max);
        CHECK(set.memory_max == unset.memory_max);
        CHECK(set.swap_max == unset.swap_max);
        CHECK(set.kmem_max == unset.kmem_max);
        CHECK(set.memory_min == unset.memory_min);
        CHECK(set.memory_low == unset.memory_low);
    }
  }
  // An unlimited guarantee would pin everything: it means none.
  CHECK(limits_for(one(ubc_resource::oomguarpages, {})).memory_min == 0);
}

TEST_CASE("each resource is measured from its row's source, in its unit", "[ubc_table]") {
  ubc_readings in;
  in.running = true;
  // Held n × 100 pages, a peak twice that, n refusals; shmem's counter counts none.
  std::uint64_t n = 0;
  for (cgroup_counter* c : {&in.cgroup.pids, &in.cgroup.memory, &in.cgroup.swap, &in.cgroup.kmem}) {
    ++n;
    *c = cgroup_counter{n * 409600, n * 819200, n, true, true};
  }
  in.cgroup.shmem = cgroup_counter{5 * 409600, 5 * 409600, 0, true, false};
  in.proc = {7, 8, 9, 10 * 4096, 11 * 4096, 12, 13};
  for (const auto& row : ubc_rows) {
    INFO(row.name);
    const auto m = measure(row.resource, in);
    CHECK(m.measured == (row.source != ubc_source::none));
    CHECK((m.held != 0) == (row.source != ubc_source::none));
    CHECK(m.peak >= m.held);
    CHECK(m.enforced == (row.limit != ubc_limit::none && row.limit != ubc_limit::nofile));
    CHECK((m.failcnt != 0) == row.watchable);
  }
  CHECK(measure(ubc_resource::numproc, in).held == 409600);  // a count
  CHECK(measure(ubc_resource::physpages, in).held == 2 * 409600 / ubc_page_size);
  CHECK(measure(ubc_resource::oomguarpages, in).held == (2 + 3) * 409600 / ubc_page_size);
  CHECK(measure(ubc_resource::lockedpages, in).held == 10);
  CHECK(measure(ubc_resource::kmemsize, in).held == 4 * 409600);  // bytes
  CHECK_FALSE(measure(ubc_resource::numpty, ubc_readings{}).enforced);  // devpts: running only
}

TEST_CASE("the report takes a limit from the kernel where a live change left another",
          "[ubc_table]") {
  ve_params saved;
  saved.ubc = {{ubc_resource::numproc, {240, 240}},
               {ubc_resource::physpages, {0, 65536}},
               {ubc_resource::kmemsize, {14372700, 14790164}}};
  cgroup_limits kernel = limits_for(saved);
  kernel.fields = field_pids | field_memory;
  const std::uint64_t page = 4096;
  const cgroup_limits configured = limits_for(saved);
  auto reported = [&](ubc_resource r) {
    return reported_value(r, saved, configured, kernel, page);
  };

  // As saved: CTID.conf's pair, also where the kernel rounded a byte limit to its page.
  kernel.kmem_max = 14790164 / page * page;
  CHECK(reported(ubc_resource::numproc) == ubc_value{240, 240});
  CHECK(reported(ubc_resource::kmemsize) == ubc_value{14372700, 14790164});

  // Changed live: the kernel's limit, and a barrier no higher than it.
  kernel.pids_max = 20;
  kernel.memory_max = 32768 * ubc_page_size;
  CHECK(reported(ubc_resource::numproc) == ubc_value{20, 20});
  CHECK(reported(ubc_resource::physpages) == ubc_value{0, 32768});
  kernel.pids_max = std::nullopt;
  CHECK(reported(ubc_resource::numproc) == ubc_value{240, ubc_unlimited});
  kernel.pids_max = 239;  // a count is never rounded
  CHECK(reported(ubc_resource::numproc) == ubc_value{239, 239});

  // A group the kernel did not report keeps CTID.conf's pair.
  kernel.fields = field_memory;
  CHECK(reported(ubc_resource::numproc) == ubc_value{240, 240});

  // Guarantees are barriers.
  kernel.fields = field_guarantee;
  kernel.memory_min = 100 * ubc_page_size;
  CHECK(reported(ubc_resource::oomguarpages) == ubc_value{100, ubc_unlimited});
}
