#include "ve/ve_namespaces.hpp"

#include "ve/userns.hpp"

namespace ovz::detail {

ns_set ve_namespaces() { return ns_set::ve_default(); }

result<ns_set> ve_namespaces(const process& init) {
  ns_set ns = ve_namespaces();
  BOOST_OUTCOME_TRY(own, in_other_userns(init.pid()));
  if (own) ns.add(ns_type::user);
  return ns;
}

}  // namespace ovz::detail
