#pragma once
// The config samples shipped with the library (conf/ve-NAME.conf-sample in the sources), as
// vzctl ships ve-basic.conf-sample and the others: the starting CTID.conf of a new VE.

#include <optional>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// The text of the shipped sample NAME; nullopt when none has that name.
std::optional<std::string_view> shipped_sample(std::string_view name);

/// The names of the shipped samples, in file-name order.
std::vector<std::string_view> shipped_sample_names();

}  // namespace ovz::detail
