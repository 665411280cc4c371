#include "model/ubc_table.hpp"

namespace ovz::detail {

std::optional<std::uint64_t> to_kernel_unit(ubc_resource r, std::uint64_t value) {
  if (value == ubc_unlimited) return std::nullopt;
  if (row_of(r).unit != ubc_unit::pages) return value;
  if (value > ubc_unlimited / ubc_page_size) return std::nullopt;
  return value * ubc_page_size;
}

std::uint64_t from_kernel_unit(ubc_resource r, std::optional<std::uint64_t> value) {
  if (!value) return ubc_unlimited;
  if (row_of(r).unit != ubc_unit::pages) return std::min(*value, ubc_unlimited);
  return *value / ubc_page_size;
}

}  // namespace ovz::detail
