// /proc/user_beancounters as ovzctl ubc prints it: any text is read or refused with
// bad_config; what is read formats back to a report that reads the same.

#include <ovz/beancounter.hpp>

#include "fuzz_check.hpp"

namespace {

bool same_counters(const ovz::ubc_stat& a, const ovz::ubc_stat& b) {
  return a.resource == b.resource && a.held == b.held && a.maxheld == b.maxheld &&
         a.barrier == b.barrier && a.limit == b.limit && a.failcnt == b.failcnt;
}

bool same_report(const std::vector<ovz::ubc_snapshot>& a,
                 const std::vector<ovz::ubc_snapshot>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.id == y.id && std::equal(x.stats.begin(), x.stats.end(), y.stats.begin(),
                                      y.stats.end(), same_counters);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto report = ovz::parse_user_beancounters(ovz_fuzz::as_text(data, size));
  if (!report) {
    FUZZ_REFUSED(report.error(), ovz::errc::bad_config);
    return 0;
  }
  auto again = ovz::parse_user_beancounters(ovz::format_user_beancounters(report.value()));
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(same_report(report.value(), again.value()));
  return 0;
}
