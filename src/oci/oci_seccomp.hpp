#pragma once
// config.json's linux.seccomp as libovz's seccomp profile (ovz/seccomp.hpp), which is compiled
// the way a VE's is.

#include <ovz/oci_bundle.hpp>
#include <ovz/result.hpp>
#include <ovz/seccomp.hpp>

#include <optional>

namespace ovz::detail {

/// The profile; none where config.json has none. System calls and architectures this
/// libseccomp does not know are left out, as runc leaves them out (a profile names calls
/// newer than the host). An action it cannot carry out (SCMP_ACT_TRACE, SCMP_ACT_NOTIFY)
/// is errc::unsupported naming it.
result<std::optional<seccomp_profile>> oci_seccomp_profile(const std::optional<oci_seccomp>& s);

}  // namespace ovz::detail
