#include <algorithm>
#include <charconv>
#include <ovz/config.hpp>
#include <ovz/ve_params.hpp>
#include <string>
#include <string_view>

#include "fail.hpp"

namespace ovz::inline v0 {
namespace {

error bad_key(std::string_view key, std::string_view why) {
  return detail::fail(errc::bad_config, "CTID.conf: {}: {}", key, why);
}

// Plain decimal digits that fit in N; nullopt when the key is absent.
template <typename N = std::uint32_t>
result<std::optional<N>> read_number(const ve_config& conf, std::string_view key) {
  auto text = conf.get(key);
  if (!text) return std::optional<N>{};
  N n = 0;
  bool digits = !text->empty() && std::all_of(text->begin(), text->end(),
                                              [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::from_chars(text->data(), text->data() + text->size(), n).ec != std::errc())
    return bad_key(key, fmt::format("\"{}\" is not a number", detail::excerpt(*text)));
  return std::optional<N>(n);
}

result<std::optional<disk_limit>> read_limit(const ve_config& conf, std::string_view key,
                                             bool blocks) {
  auto text = conf.get(key);
  if (!text) return std::optional<disk_limit>{};
  auto l = parse_disk_limit(*text, blocks);
  if (!l) return bad_key(key, l.error().message());
  return std::optional<disk_limit>(*l);
}

result<disk_params> disk_from_config(const ve_config& conf) {
  disk_params d;
  BOOST_OUTCOME_TRY(space, read_limit(conf, "DISKSPACE", true));
  BOOST_OUTCOME_TRY(inodes, read_limit(conf, "DISKINODES", false));
  BOOST_OUTCOME_TRY(quotatime, read_number<std::uint64_t>(conf, "QUOTATIME"));
  BOOST_OUTCOME_TRY(ugid, read_number<std::uint64_t>(conf, "QUOTAUGIDLIMIT"));
  d = {.diskspace = space, .diskinodes = inodes, .quotatime = quotatime, .quotaugidlimit = ugid};
  if (auto ok = check_disk_params(d); !ok)
    return detail::fail(errc::bad_config, "CTID.conf: {}", ok.error().message());
  return d;
}

}  // namespace

result<ve_params> params_from_config(const ve_config& conf) {
  ve_params p;
  for (auto r : all_ubc_resources()) {
    auto key = conf_key(r);
    auto text = conf.get(key);
    if (!text) continue;
    // Written by vzctl or by hand: a bare number is in the resource's units, a suffixed one
    // ("256M") is converted, exactly as on the command line.
    auto value = parse_ubc_value(r, *text);
    if (!value) return bad_key(key, value.error().message());
    p.ubc.emplace_back(r, *value);
  }

  BOOST_OUTCOME_TRY(cpuunits, read_number(conf, "CPUUNITS"));
  BOOST_OUTCOME_TRY(cpulimit, read_number(conf, "CPULIMIT"));
  BOOST_OUTCOME_TRY(cpus, read_number(conf, "CPUS"));
  // Each checked alone so the message names its key.
  const std::pair<const char*, cpu_params> checks[] = {{"CPUUNITS", {.cpuunits = cpuunits}},
                                                       {"CPULIMIT", {.cpulimit = cpulimit}},
                                                       {"CPUS", {.cpus = cpus}}};
  for (const auto& [key, one] : checks) {
    if (auto ok = check_cpu_params(one); !ok) return bad_key(key, ok.error().message());
  }
  p.cpu = {.cpuunits = cpuunits, .cpulimit = cpulimit, .cpus = cpus};
  if (auto mask = conf.get("CPUMASK")) {
    auto canonical = parse_cpumask(*mask);
    if (!canonical) return bad_key("CPUMASK", canonical.error().message());
    p.cpu.cpumask = *canonical;
  }
  BOOST_OUTCOME_TRY(disk, disk_from_config(conf));
  p.disk = disk;
  return p;
}

result<void> check_bootable(const ve_params& p) {
  auto too_small = [](std::string_view what, std::uint64_t value, std::string_view minimum) {
    return detail::fail(errc::invalid_argument,
                        "{} {} is too small for a VE to boot: the minimum is {}", what, value,
                        minimum);
  };
  for (const auto& [r, v] : p.ubc) {
    switch (r) {
      case ubc_resource::numproc:
        if (v.limit < min_numproc)
          return too_small("numproc", v.limit, std::to_string(min_numproc));
        break;
      case ubc_resource::physpages:
        if (v.limit < min_physpages)
          return too_small("physpages", v.limit,
                           fmt::format("{} pages ({}M)", min_physpages, min_physpages / 256));
        break;
      case ubc_resource::numfile:
        if (v.barrier < min_numfile)
          return too_small("numfile", v.barrier, std::to_string(min_numfile));
        break;
      default: break;
    }
  }
  if (p.cpu.cpus && *p.cpu.cpus < min_cpus)
    return too_small("cpus", *p.cpu.cpus, std::to_string(min_cpus));
  return success();
}

result<void> params_to_config(const ve_params& p, ve_config& conf) {
  // Everything is checked before the first set(), so a refused change leaves conf untouched.
  // A ubc value is checked by reading back what would be written: that catches limit < barrier
  // and values above ubc_unlimited with parse_ubc_value's own messages.
  for (const auto& [r, value] : p.ubc) {
    BOOST_OUTCOME_TRY(parse_ubc_value(r, format_ubc_value(value)));
  }
  BOOST_OUTCOME_TRY(check_cpu_params(p.cpu));
  BOOST_OUTCOME_TRY(check_disk_params(p.disk));
  std::optional<std::string> mask;
  if (p.cpu.cpumask) {
    BOOST_OUTCOME_TRY(canonical, parse_cpumask(*p.cpu.cpumask));
    mask = canonical;
  }

  for (const auto& [r, value] : p.ubc) {
    BOOST_OUTCOME_TRY(conf.set(conf_key(r), format_ubc_value(value)));
  }
  const std::pair<const char*, const std::optional<std::uint32_t>&> numbers[] = {
      {"CPUUNITS", p.cpu.cpuunits}, {"CPULIMIT", p.cpu.cpulimit}, {"CPUS", p.cpu.cpus}};
  for (const auto& [key, value] : numbers) {
    if (value) {
      BOOST_OUTCOME_TRY(conf.set(key, std::to_string(*value)));
    }
  }
  if (mask) {
    BOOST_OUTCOME_TRY(conf.set("CPUMASK", *mask));
  }
  for (const auto& [key, value] : {std::pair{"DISKSPACE", &p.disk.diskspace},
                                   {"DISKINODES", &p.disk.diskinodes}}) {
    if (*value) {
      BOOST_OUTCOME_TRY(conf.set(key, format_disk_limit(**value)));
    }
  }
  for (const auto& [key, value] : {std::pair{"QUOTATIME", &p.disk.quotatime},
                                   {"QUOTAUGIDLIMIT", &p.disk.quotaugidlimit}}) {
    if (*value) {
      BOOST_OUTCOME_TRY(conf.set(key, std::to_string(**value)));
    }
  }
  return success();
}

}  // namespace ovz::inline v0
