// The beancounter and CPU keys of CTID.conf: any value is read or refused with bad_config
// naming the key; what is read writes back and reads again to the same settings.

#include <ovz/beancounter.hpp>
#include <ovz/config.hpp>
#include <ovz/ve_params.hpp>

#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_params.hpp"

namespace {

const std::vector<std::string>& setting_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (auto r : ovz::all_ubc_resources()) k.push_back(ovz::conf_key(r));
    for (const char* cpu : {"CPUUNITS", "CPULIMIT", "CPUS", "CPUMASK"}) k.emplace_back(cpu);
    return k;
  }();
  return keys;
}

// A CTID.conf as written, or else the lines of the input as the values of the settings in
// turn, so that the fuzzer reaches every key without having to spell it.
ovz::ve_config config_of(std::string_view text) {
  if (auto parsed = ovz::ve_config::parse(text)) return std::move(parsed).value();
  ovz::ve_config conf;
  const auto& keys = setting_keys();
  for (std::size_t i = 0;; ++i) {
    auto nl = text.find('\n');
    (void)conf.set(keys[i % keys.size()], text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return conf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const ovz::ve_config conf = config_of(ovz_fuzz::as_text(data, size));
  auto params = ovz::params_from_config(conf);
  if (!params) {
    FUZZ_REFUSED(params.error(), ovz::errc::bad_config);
    return 0;
  }
  ovz_fuzz::require_round_trip(params.value(), conf);
  ovz_fuzz::require_round_trip(params.value(), ovz::ve_config{});
  return 0;
}
