#pragma once
// The root of a VE run from an OCI bundle: the bundle's directory, bound as it is (OpenVZ's
// simfs). The bundle is its owner's: nothing
// of it is made at create or removed at destroy, only the mount point.

#include "ve/storage.hpp"

#include <filesystem>
#include <memory>

namespace ovz::detail {

std::shared_ptr<const ve_storage> bundle_storage(std::filesystem::path root,
                                                 std::filesystem::path mount_point);

}  // namespace ovz::detail
