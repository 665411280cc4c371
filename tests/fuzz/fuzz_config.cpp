// CTID.conf: the parser must refuse or accept any text; accepted text must serialize back
// byte for byte and parse again to the same keys and values; set() must refuse a value or
// write it so that it reads back unchanged, without disturbing the other keys.

#include <ovz/config.hpp>

#include <map>
#include <string>

#include "fuzz_check.hpp"

namespace {

std::map<std::string, std::string> contents(const ovz::ve_config& conf) {
  std::map<std::string, std::string> out;
  for (const auto& key : conf.keys()) {
    auto value = conf.get(key);
    FUZZ_REQUIRE(value.has_value());
    out[key] = *value;
  }
  return out;
}

void reparses_to(const ovz::ve_config& conf, const std::map<std::string, std::string>& expected) {
  auto again = ovz::ve_config::parse(conf.serialize());
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(again.value().serialize() == conf.serialize());
  FUZZ_REQUIRE(contents(again.value()) == expected);
}

// The first lines of the input, used as values: the quotes, '#', blanks and control characters
// a fuzzer finds are what the writer has to quote. (Each is checked by a full reparse, so not
// every line of a long input.)
void set_each_line(ovz::ve_config& conf, std::string_view text) {
  auto expected = contents(conf);
  for (int lines = 0; lines < 8; ++lines) {
    auto nl = text.find('\n');
    std::string_view value = text.substr(0, nl);
    const std::string unchanged = conf.serialize();
    if (auto ok = conf.set("FUZZ_VALUE", value); ok) {
      expected["FUZZ_VALUE"] = std::string(value);
      FUZZ_REQUIRE(conf.get("FUZZ_VALUE") == std::string(value));
      reparses_to(conf, expected);
    } else {
      FUZZ_REFUSED(ok.error(), ovz::errc::invalid_argument);
      FUZZ_REQUIRE(conf.serialize() == unchanged);
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view text = ovz_fuzz::as_text(data, size);
  auto parsed = ovz::ve_config::parse(text);
  if (!parsed) {
    FUZZ_REFUSED(parsed.error(), ovz::errc::bad_config);
    ovz::ve_config empty;
    set_each_line(empty, text);
    return 0;
  }
  ovz::ve_config& conf = parsed.value();
  FUZZ_REQUIRE(conf.serialize() == text);
  const auto before = contents(conf);
  reparses_to(conf, before);

  // Setting each key to its own value changes nothing a reader sees; a value the writer
  // cannot quote (a double quote or a backslash, legal in single quotes) is refused.
  auto rewritten = conf;
  for (const auto& [key, value] : before) {
    auto ok = rewritten.set(key, value);
    FUZZ_REQUIRE(ok.has_value() == (value.find_first_of("\"\\") == std::string::npos));
  }
  reparses_to(rewritten, before);

  // Erasing a key removes it and nothing else.
  if (!before.empty()) {
    auto erased = conf;
    auto shorter = before;
    shorter.erase(shorter.begin());
    FUZZ_REQUIRE(erased.erase(before.begin()->first));
    FUZZ_REQUIRE(!erased.get(before.begin()->first));
    reparses_to(erased, shorter);
  }

  set_each_line(conf, text);
  return 0;
}
