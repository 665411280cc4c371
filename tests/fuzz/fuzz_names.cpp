// The short words users type: a CTID, a hostname and CTID.conf's CAPABILITY list
// ("NAME:on|off ..."). Each is accepted exactly as documented or refused with a message.

#include <sys/capability.h>

#include <ovz/ctid.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include "fuzz_check.hpp"
#include "kernel/caps.hpp"

#include <ovz/security.hpp>
#include "model/hostname.hpp"

namespace {

void ctid(std::string_view text) {
  auto id = ovz::ctid::parse(text);
  if (!id) {
    FUZZ_REFUSED(id.error(), ovz::errc::invalid_argument);
    return;
  }
  FUZZ_REQUIRE(id.value().value() >= 1 && id.value().value() <= ovz::ctid::max);
  FUZZ_REQUIRE(id.value().str() == text);
}

void hostname(std::string_view text) {
  auto ok = ovz::detail::check_hostname(text);
  if (!ok) {
    FUZZ_REFUSED(ok.error(), ovz::errc::invalid_argument);
    return;
  }
  FUZZ_REQUIRE(!text.empty() && text.size() <= 64);
  FUZZ_REQUIRE(std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.';
  }));
  FUZZ_REQUIRE(text.front() != '.' && text.back() != '.' && text.front() != '-' &&
               text.back() != '-');
}

// libcap's own name for a capability ("cap_sys_time").
std::string cap_name(cap_value_t cap) {
  char* name = cap_to_name(cap);
  FUZZ_REQUIRE(name != nullptr);
  std::string out(name);
  cap_free(name);
  return out;
}

// An accepted list names each capability exactly (no prefix of a name with something after
// it), and the drops follow the last state given for each.
void capabilities(std::string_view text) {
  auto parsed = ovz::parse_capabilities(text);
  if (!parsed) {
    FUZZ_REFUSED(parsed.error(), ovz::errc::invalid_argument);
    return;
  }
  auto drops = ovz::detail::dropped_capabilities(parsed.value(), false);
  FUZZ_REQUIRE(drops.has_value());
  const auto& d = drops.value();
  auto defaults = ovz::detail::dropped_capabilities({}, false);
  FUZZ_REQUIRE(defaults.has_value());

  std::map<cap_value_t, bool> last_state;  // true: on
  std::string word;
  auto take_word = [&] {
    if (word.empty()) return;
    auto colon = word.rfind(':');
    FUZZ_REQUIRE(colon != std::string::npos);
    std::string name = word.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!name.starts_with("cap_")) name = "cap_" + name;
    cap_value_t cap = 0;
    FUZZ_REQUIRE(cap_from_name(name.c_str(), &cap) == 0);
    FUZZ_REQUIRE(cap_name(cap) == name);
    last_state[cap] = word.substr(colon + 1) == "on";
    word.clear();
  };
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)))
      take_word();
    else
      word += c;
  }
  take_word();

  auto dropped = [&](cap_value_t cap) { return std::find(d.begin(), d.end(), cap) != d.end(); };
  for (const auto& [cap, on] : last_state) FUZZ_REQUIRE(dropped(cap) != on);
  for (int cap : defaults.value())
    FUZZ_REQUIRE(dropped(cap) || last_state.contains(cap));
  for (auto it = d.begin(); it != d.end(); ++it) {
    FUZZ_REQUIRE(std::find(it + 1, d.end(), *it) == d.end());
    FUZZ_REQUIRE(last_state.contains(*it) ||
                 std::find(defaults.value().begin(), defaults.value().end(), *it) !=
                     defaults.value().end());
  }
  auto setpcap = std::find(d.begin(), d.end(), CAP_SETPCAP);
  FUZZ_REQUIRE(setpcap == d.end() || setpcap + 1 == d.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view text = ovz_fuzz::as_text(data, size);
  ctid(text);
  hostname(text);
  capabilities(text);
  return 0;
}
