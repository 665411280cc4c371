#pragma once
// The round trip of resource settings through CTID.conf, shared by the targets that produce
// ve_params: what was accepted must be written, read back and come out the same.

#include <ovz/config.hpp>
#include <ovz/ve_params.hpp>

#include <map>

#include "fuzz_check.hpp"

namespace ovz_fuzz {

// What a config ends up holding: for a resource named twice, the last value.
inline std::map<ovz::ubc_resource, ovz::ubc_value> effective_ubc(const ovz::ve_params& p) {
  std::map<ovz::ubc_resource, ovz::ubc_value> out;
  for (const auto& [r, v] : p.ubc) out[r] = v;
  return out;
}

inline bool same_params(const ovz::ve_params& a, const ovz::ve_params& b) {
  auto mask = [](const ovz::cpu_params& c) -> std::optional<std::string> {
    if (!c.cpumask) return std::nullopt;
    auto canonical = ovz::parse_cpumask(*c.cpumask);
    FUZZ_REQUIRE(canonical.has_value());
    return canonical.value();
  };
  return effective_ubc(a) == effective_ubc(b) && a.cpu.cpuunits == b.cpu.cpuunits &&
         a.cpu.cpulimit == b.cpu.cpulimit && a.cpu.cpus == b.cpu.cpus && mask(a.cpu) == mask(b.cpu);
}

// Writes accepted settings into `conf` (which must take them), saves and reloads the text, and
// requires the same settings back.
inline void require_round_trip(const ovz::ve_params& p, ovz::ve_config conf) {
  auto written = ovz::params_to_config(p, conf);
  FUZZ_REQUIRE(written.has_value());
  auto reloaded = ovz::ve_config::parse(conf.serialize());
  FUZZ_REQUIRE(reloaded.has_value());
  auto again = ovz::params_from_config(reloaded.value());
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(same_params(p, again.value()));
}

}  // namespace ovz_fuzz
