#pragma once
/// @file
/// CTID: the numeric identity of a VE, as in OpenVZ (101, 102, …).

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace ovz::inline v0 {

/// A valid CTID: 1 … 2^31-1. 0 is the host in OpenVZ and never a VE.
class OVZ_API ctid {
 public:
  static constexpr std::uint32_t max = 2147483647u;

  /// Checks a number: 0 and values above 2^31-1 are refused with errc::invalid_argument.
  static result<ctid> from_number(std::uint64_t value);
  /// Parses decimal text ("101"); signs, spaces, leading zeros other than "0" itself, and
  /// trailing garbage are refused.
  static result<ctid> parse(std::string_view text);

  std::uint32_t value() const noexcept { return value_; }
  std::string str() const { return std::to_string(value_); }

  auto operator<=>(const ctid&) const = default;

 private:
  explicit ctid(std::uint32_t v) noexcept : value_(v) {}
  std::uint32_t value_;
};

}  // namespace ovz::inline v0
