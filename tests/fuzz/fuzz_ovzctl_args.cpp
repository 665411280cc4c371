// ovzctl's command line: the input split at NUL bytes is argv after the program name. Any
// argv is parsed or refused with invalid_argument and a message; the settings of an accepted
// `set` are ones the library takes and keeps through CTID.conf.

#include <ovz/config.hpp>

#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_params.hpp"
#include "ovzctl/args.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  std::string_view text = ovz_fuzz::as_text(data, size);
  std::vector<std::string_view> args;
  while (!text.empty()) {
    auto nul = text.find('\0');
    args.push_back(text.substr(0, nul));
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }

  auto cmd = ovzctl::parse(args);
  if (!cmd) {
    FUZZ_REFUSED(cmd.error(), ovz::errc::invalid_argument);
    return 0;
  }
  const auto& c = cmd.value();
  if (c.what == ovzctl::verb::set) {
    FUZZ_REQUIRE(c.id.has_value() && !c.set.empty());
    ovz_fuzz::require_round_trip(c.set.params, ovz::ve_config{});
  }
  if (c.what == ovzctl::verb::exec) FUZZ_REQUIRE(c.id.has_value() && !c.exec_words.empty());
  return 0;
}
