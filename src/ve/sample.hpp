#pragma once
// The config sample a new VE starts from (vzctl's ve-NAME.conf-sample and CONFIGFILE).

#include <ovz/config.hpp>
#include <ovz/result.hpp>

#include <filesystem>
#include <string_view>

namespace ovz::detail {

/// The sample NAME for a VE of this state root: `<root>/conf/ve-NAME.conf-sample` when the
/// state root has one, else the one shipped with the library. Refused when neither exists
/// or when its settings would not parse or could not boot a VE. The keys that name one VE
/// (OSTEMPLATE, HOSTNAME, VE_ROOT, VE_PRIVATE, USERNS_MAP) are dropped: create sets them.
result<ve_config> load_sample(const std::filesystem::path& state_root, std::string_view name);

}  // namespace ovz::detail
