#pragma once
// config.json's linux.seccomp as libovz's seccomp profile (ovz/seccomp.hpp), which is compiled
// the way a VE's is.

#include <ovz/oci_bundle.hpp>
#include <ovz/result.hpp>
#include <ovz/seccomp.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {

/// What a container's processes are confined by.
struct oci_filter {
  seccomp_profile profile;
  /// The calls of its SCMP_ACT_NOTIFY rules: handed to the filter's listener, which goes to
  /// listenerPath (oci_listener.hpp).
  std::vector<std::string> notify;
};

/// The filter; none where config.json has none. System calls and architectures this
/// libseccomp does not know are left out, as runc leaves them out (a profile names calls
/// newer than the host). An action it cannot carry out (SCMP_ACT_TRACE), SCMP_ACT_NOTIFY as
/// the default, with conditions on arguments or without a listenerPath, is
/// errc::unsupported or errc::bad_config naming it.
result<std::optional<oci_filter>> oci_seccomp_filter(const std::optional<oci_seccomp>& s);

}  // namespace ovz::detail
