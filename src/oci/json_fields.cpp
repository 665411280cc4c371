#include "oci/json_fields.hpp"

#include "fail.hpp"

#include <boost/property_tree/json_parser.hpp>

#include <charconv>
#include <sstream>

namespace ovz::detail::json {
namespace {

bool is_null(const tree& t) { return t.empty() && t.data() == "null"; }

template <class T>
std::optional<T> number(const std::string& s) {
  T v{};
  const auto* end = s.data() + s.size();
  auto [at, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || at != end) return std::nullopt;
  return v;
}

}  // namespace

result<tree> parse(std::string_view text, std::string_view origin) {
  tree t;
  std::istringstream in{std::string(text)};
  try {
    boost::property_tree::read_json(in, t);
  } catch (const boost::property_tree::json_parser_error& e) {
    return fail(errc::bad_config, "{}: not JSON: {} (line {})", origin, e.message(), e.line());
  }
  return t;
}

field field::operator[](std::string_view name) const {
  std::string path = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  if (!present()) return field(nullptr, std::move(path));
  // Not get_child: a '.' in a name (an annotation's) is part of the name.
  for (const auto& [key, child] : *node_)
    if (key == name) return field(&child, std::move(path));
  return field(nullptr, std::move(path));
}

bool field::present() const noexcept { return node_ && !is_null(*node_); }

error field::bad(std::string_view what) const { return fail(errc::bad_config, "{}: {}", path_, what); }

result<std::optional<std::string>> field::text() const {
  if (!present()) return std::optional<std::string>{};
  if (!node_->empty()) return bad("expected a string, found an object or array");
  return std::optional<std::string>(node_->data());
}

result<std::optional<bool>> field::boolean() const {
  BOOST_OUTCOME_TRY(t, text());
  if (!t) return std::optional<bool>{};
  if (*t == "true") return std::optional<bool>(true);
  if (*t == "false") return std::optional<bool>(false);
  return bad(fmt::format("expected true or false, found \"{}\"", excerpt(*t)));
}

template <class T>
result<std::optional<T>> field::numeric(std::string_view kind) const {
  BOOST_OUTCOME_TRY(t, text());
  if (!t) return std::optional<T>{};
  auto v = number<T>(*t);
  if (!v) return bad(fmt::format("expected {}, found \"{}\"", kind, excerpt(*t)));
  return v;
}

result<std::optional<std::int64_t>> field::integer() const {
  return numeric<std::int64_t>("an integer");
}

result<std::optional<std::uint64_t>> field::unsigned_integer() const {
  return numeric<std::uint64_t>("an unsigned integer");
}

std::vector<field> field::elements() const {
  std::vector<field> out;
  if (!present()) return out;
  std::size_t i = 0;
  for (const auto& [key, child] : *node_) out.emplace_back(&child, fmt::format("{}[{}]", path_, i++));
  return out;
}

result<std::vector<std::string>> field::texts() const {
  std::vector<std::string> out;
  for (const auto& e : elements()) {
    BOOST_OUTCOME_TRY(t, e.text());
    if (t) out.push_back(std::move(*t));
  }
  return out;
}

std::vector<std::pair<std::string, field>> field::members() const {
  std::vector<std::pair<std::string, field>> out;
  if (!present()) return out;
  for (const auto& [key, child] : *node_) out.emplace_back(key, field(&child, path_ + "." + key));
  return out;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace ovz::detail::json
