#include "support/beancounters.hpp"

#include "support/temp_root.hpp"

namespace ovz::test {

ubc_stat stat_of(const ve& v, ubc_resource r) {
  auto snap = MUST(v.beancounters());
  for (const auto& s : snap.stats)
    if (s.resource == r) return s;
  FAIL("no " << to_string(r) << " in the snapshot");
  return {};
}

ve_params ubc(ubc_resource r, const char* text) {
  ve_params p;
  p.ubc.push_back({r, MUST(parse_ubc_value(r, text))});
  return p;
}

}  // namespace ovz::test
