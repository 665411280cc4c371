#pragma once

#include <ovz/result.hpp>

#include <string_view>

namespace ovz::detail {

/// A hostname the kernel and resolvers accept: at most 64 characters (the kernel's limit),
/// dot-separated labels of letters, digits and inner hyphens.
result<void> check_hostname(std::string_view name);

}  // namespace ovz::detail
