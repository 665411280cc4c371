#pragma once

#include <ovz/result.hpp>

#include <string_view>

namespace ovz::detail {

/// A name that is safe as one file name under a state root directory (a template, a config
/// sample): 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'. `what` names
/// it in the message ("template name").
result<void> check_file_name(std::string_view name, std::string_view what);

}  // namespace ovz::detail
