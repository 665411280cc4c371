#pragma once
// Lines and words of the text files the model reads and edits (inittab, hosts, resolv.conf,
// passwd, CTID.conf list values).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// `s` without leading and trailing blanks (space, tab, CR).
std::string_view trim(std::string_view s);
/// The lines of `text`, without their newlines; a last line without one counts.
std::vector<std::string_view> lines_of(std::string_view text);
/// The blank-separated words of `s`.
std::vector<std::string> words_of(std::string_view s);
/// What a K, M, G or T suffix (either case, as vzctl takes them) multiplies by: powers of
/// 1024. nullopt for any other character.
std::optional<std::uint64_t> binary_multiple(char suffix);

}  // namespace ovz::detail
