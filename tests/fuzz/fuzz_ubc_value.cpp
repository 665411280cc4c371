// vzctl's value syntax: "B[:L]" with K, M, G, T, P suffixes or "unlimited" for every
// beancounter, a beancounter's name, and a CPU list. Accepted values must be consistent and
// survive their own formatting; refusals are invalid_argument with a message.

#include <ovz/beancounter.hpp>
#include <ovz/cpu.hpp>

#include <algorithm>
#include <string>

#include "fuzz_check.hpp"

namespace {

void ubc_value(ovz::ubc_resource r, std::string_view text) {
  auto value = ovz::parse_ubc_value(r, text);
  if (!value) {
    FUZZ_REFUSED(value.error(), ovz::errc::invalid_argument);
    return;
  }
  const auto& v = value.value();
  FUZZ_REQUIRE(v.barrier <= v.limit && v.limit <= ovz::ubc_unlimited);
  auto again = ovz::parse_ubc_value(r, ovz::format_ubc_value(v));
  FUZZ_REQUIRE(again.has_value() && again.value() == v);
}

void resource_name(std::string_view text) {
  auto r = ovz::parse_ubc_resource(text);
  if (!r) {
    FUZZ_REFUSED(r.error(), ovz::errc::invalid_argument);
    return;
  }
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  FUZZ_REQUIRE(lower == ovz::to_string(r.value()));
  auto by_key = ovz::parse_ubc_resource(ovz::conf_key(r.value()));
  FUZZ_REQUIRE(by_key.has_value() && by_key.value() == r.value());
}

void cpumask(std::string_view text) {
  auto mask = ovz::parse_cpumask(text);
  if (!mask) {
    FUZZ_REFUSED(mask.error(), ovz::errc::invalid_argument);
    return;
  }
  auto again = ovz::parse_cpumask(mask.value());
  FUZZ_REQUIRE(again.has_value() && again.value() == mask.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view text = ovz_fuzz::as_text(data, size);
  for (auto r : ovz::all_ubc_resources()) ubc_value(r, text);
  resource_name(text);
  cpumask(text);
  return 0;
}
