#pragma once
// The namespaces of a VE that a command run inside it enters.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

namespace ovz::detail {

/// The namespaces a command run inside a VE enters.
ns_set ve_namespaces();
/// Those of the VE whose init this is: ve_namespaces(), and its user namespace if it has one.
result<ns_set> ve_namespaces(const process& init);

}  // namespace ovz::detail
