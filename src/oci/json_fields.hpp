#pragma once
// Typed reads of a JSON document held in a Boost property tree, which keeps every value as
// text and an array as children without names: each read names the field's path in its error,
// so that a bad config.json says which field is wrong and what it holds.

#include <ovz/result.hpp>

#include <boost/property_tree/ptree.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail::json {

using tree = boost::property_tree::ptree;

/// Parses `text`; errc::bad_config naming `origin` and the parser's complaint.
result<tree> parse(std::string_view text, std::string_view origin);

/// `text` as a JSON string, quotes included: what the runtime writes (state, messages).
std::string quoted(std::string_view text);

/// A field of an object as a JSON document means it: present and not null.
class field {
 public:
  field(const tree* node, std::string path) : node_(node), path_(std::move(path)) {}
  /// The member `name` of this object (absent when this is).
  field operator[](std::string_view name) const;
  bool present() const noexcept;
  const std::string& path() const noexcept { return path_; }

  result<std::optional<std::string>> text() const;
  result<std::optional<bool>> boolean() const;
  result<std::optional<std::int64_t>> integer() const;
  result<std::optional<std::uint64_t>> unsigned_integer() const;
  /// The elements of an array (empty when absent).
  std::vector<field> elements() const;
  /// An array of strings (empty when absent).
  result<std::vector<std::string>> texts() const;
  /// An object's members, in order (empty when absent).
  std::vector<std::pair<std::string, field>> members() const;

  /// errc::bad_config: "<path>: <what>".
  error bad(std::string_view what) const;

 private:
  template <class T>
  result<std::optional<T>> numeric(std::string_view kind) const;

  const tree* node_;
  std::string path_;
};

}  // namespace ovz::detail::json
