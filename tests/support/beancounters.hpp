#pragma once
// Beancounters from the tests' side: one resource's line of a VE's snapshot, one setting.

#include <ovz/beancounter.hpp>
#include <ovz/ve.hpp>

namespace ovz::test {

/// The line of `r` in the VE's beancounters; fails the test when there is none.
ubc_stat stat_of(const ve& v, ubc_resource r);

/// Settings that change only `r`, to vzctl's text ("64", "0:32M").
ve_params ubc(ubc_resource r, const char* text);

}  // namespace ovz::test
