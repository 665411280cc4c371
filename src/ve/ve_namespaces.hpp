#pragma once
// The namespaces of a VE that a command run inside it enters.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

namespace ovz::detail {

/// The namespaces a VE gets, and a command run inside it enters: ns_set::ve_default(), and
/// a time namespace where the kernel has them (the VE's uptime its own).
ns_set ve_namespaces();
/// Those of the VE whose init this is: ve_namespaces(), and its user namespace if it has one.
result<ns_set> ve_namespaces(const process& init);

}  // namespace ovz::detail
