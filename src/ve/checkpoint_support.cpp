// What this host's CRIU can do, for the checkpoint API's callers.

#include <ovz/checkpoint.hpp>

#include "fail.hpp"
#include "kernel/criu_service.hpp"

namespace ovz::inline v0 {

result<void> checkpoint_supported() {
  try {
    return detail::criu_kernel_check();
  } catch (const std::exception& e) {
    return detail::fail(errc::unsupported, "criu check: {}", e.what());
  }
}

result<checkpoint_tools> checkpoint_tools_here() {
  try {
    BOOST_OUTCOME_TRY(version, detail::criu_version_of());
    BOOST_OUTCOME_TRY(features, detail::criu_features_of());
    return checkpoint_tools{.criu_version = version.text(),
                            .memory_tracking = features.mem_track,
                            .lazy_pages = features.lazy_pages};
  } catch (const std::exception& e) {
    return detail::fail(errc::unsupported, "criu: {}", e.what());
  }
}

}  // namespace ovz::inline v0
