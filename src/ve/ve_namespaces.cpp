#include "ve/ve_namespaces.hpp"

#include "ve/userns.hpp"

#include <unistd.h>

namespace ovz::detail {
namespace {

// Time namespaces came with Linux 5.6 (CONFIG_TIME_NS); without them a VE's uptime is the
// host's, as before.
bool has_time_namespaces() {
  static const bool has = ::access("/proc/self/ns/time", F_OK) == 0;
  return has;
}

}  // namespace

ns_set ve_namespaces() {
  ns_set ns = ns_set::ve_default();
  if (has_time_namespaces()) ns.add(ns_type::time);
  return ns;
}

result<ns_set> ve_namespaces(const process& init) {
  ns_set ns = ve_namespaces();
  BOOST_OUTCOME_TRY(own, in_other_userns(init.pid()));
  if (own) ns.add(ns_type::user);
  return ns;
}

}  // namespace ovz::detail
