#pragma once
// A VE's settings are read by one parser whether they come at create (its disk limits) or
// later (ovz_ve_set_param, ovz_changes_add), so that a value means the same at both; those
// entry points live in two files.

#include "c_support.hpp"

#include <ovz/setting.hpp>
#include <ovz/ve.hpp>

#include <optional>
#include <string>

namespace ovz_c {

// One `vzctl set --NAME VALUE` added to `c` by the core's parser, the same for ovzctl, C and
// Python; `only`, when given, is the kind of setting the entry point takes. 0 or the error set.
inline int add_setting(ovz::ve_changes& c, const char* fn, const char* name, const char* value,
                       std::optional<ovz::setting_kind> only = std::nullopt) {
  if (only && ovz::setting_kind_of(name) != only)
    return invalid(std::string(fn) + ": \"" + name + "\" is not a setting it takes");
  auto ok = ovz::parse_setting(name, value, c);
  return ok ? 0 : fail(ok.error());
}

}  // namespace ovz_c
