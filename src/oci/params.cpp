#include <ovz/oci_bundle.hpp>
#include <ovz/setting.hpp>

#include "fail.hpp"

#include <unistd.h>

#include <algorithm>
#include <string_view>

namespace ovz::inline v0 {
namespace {

constexpr std::string_view openvz_prefix = "org.openvz.";
constexpr std::string_view ubc_prefix = "org.openvz.ubc.";

std::uint64_t pages(std::int64_t bytes) {
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return (static_cast<std::uint64_t>(bytes) + page - 1) / page;
}

void set_ubc(ve_params& p, ubc_resource r, ubc_value v) { p.ubc.emplace_back(r, v); }

result<void> memory(const oci_resources& r, ve_params& p) {
  const auto& limit = r.memory_limit;
  if (limit && *limit < -1)
    return detail::fail(errc::invalid_argument, "linux.resources.memory.limit {} is negative", *limit);
  if (limit && *limit == -1) set_ubc(p, ubc_resource::physpages, {0, ubc_unlimited});
  if (limit && *limit > 0) set_ubc(p, ubc_resource::physpages, {0, pages(*limit)});
  if (!r.memory_swap || *r.memory_swap == 0) return success();
  const std::int64_t swap = *r.memory_swap;
  if (swap == -1) {
    set_ubc(p, ubc_resource::swappages, {0, ubc_unlimited});
    return success();
  }
  if (!limit || *limit <= 0)
    return detail::fail(errc::invalid_argument,
                        "linux.resources.memory.swap {} needs a memory limit, which it counts in",
                        swap);
  if (swap < *limit)
    return detail::fail(errc::invalid_argument,
                        "linux.resources.memory.swap {} is below memory.limit {}: it counts RAM "
                        "and swap together",
                        swap, *limit);
  set_ubc(p, ubc_resource::swappages, {0, pages(swap - *limit)});
  return success();
}

result<void> cpu(const oci_resources& r, ve_params& p) {
  if (r.cpu_shares && *r.cpu_shares > 0)
    p.cpu.cpuunits = static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(*r.cpu_shares * 1000 / 1024, cpuunits_min, cpuunits_max));
  if (r.cpu_quota && *r.cpu_quota == -1) p.cpu.cpulimit = 0;
  if (r.cpu_quota && *r.cpu_quota > 0) {
    const std::uint64_t period = r.cpu_period.value_or(100000);
    if (period == 0)
      return detail::fail(errc::invalid_argument, "linux.resources.cpu.period is 0");
    const auto quota = static_cast<std::uint64_t>(*r.cpu_quota);
    p.cpu.cpulimit = static_cast<std::uint32_t>((quota * 100 + period - 1) / period);
  }
  if (r.cpu_cpus) {
    auto mask = parse_cpumask(*r.cpu_cpus);
    if (!mask) return detail::with_context(mask.error(), "linux.resources.cpu.cpus");
    p.cpu.cpumask = *mask;
  }
  return check_cpu_params(p.cpu);
}

}  // namespace

result<ve_params> oci_params(const oci_resources& resources,
                             const std::map<std::string, std::string>& annotations) {
  ve_params p;
  BOOST_OUTCOME_TRY(memory(resources, p));
  BOOST_OUTCOME_TRY(cpu(resources, p));
  if (resources.pids_limit) {
    const auto n = *resources.pids_limit;
    set_ubc(p, ubc_resource::numproc,
            n > 0 ? ubc_value{static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(n)}
                  : ubc_value{});
  }
  ve_changes given;
  for (const auto& [key, value] : annotations) {
    std::string_view k = key;
    if (k.substr(0, openvz_prefix.size()) != openvz_prefix) continue;
    std::string_view name = k.substr(k.substr(0, ubc_prefix.size()) == ubc_prefix
                                         ? ubc_prefix.size()
                                         : openvz_prefix.size());
    // Unknown ones are skipped, as the spec asks of annotations; a beancounter's name too.
    if (setting_kind_of(name) != setting_kind::resource) continue;
    if (auto read = parse_setting(name, value, given); !read)
      return detail::with_context(read.error(), "annotation " + key);
  }
  // An annotation's beancounter replaces what the resources made of the same one.
  for (const auto& [r, v] : given.params.ubc)
    std::erase_if(p.ubc, [r = r](const auto& entry) { return entry.first == r; });
  p.ubc.insert(p.ubc.end(), given.params.ubc.begin(), given.params.ubc.end());
  const auto& c = given.params.cpu;
  if (c.cpuunits) p.cpu.cpuunits = c.cpuunits;
  if (c.cpulimit) p.cpu.cpulimit = c.cpulimit;
  if (c.cpus) p.cpu.cpus = c.cpus;
  if (c.cpumask) p.cpu.cpumask = c.cpumask;
  p.disk = given.params.disk;
  return p;
}

}  // namespace ovz::inline v0
