// The files of a VE's /etc the host edits (model/etc_files.hpp, model/accounts.hpp): their
// text is the VE's, anything at all. Each edit keeps what it does not own and, made twice,
// gives what it gave once.

#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "model/accounts.hpp"
#include "model/etc_files.hpp"

namespace {

using list = std::vector<std::string>;

bool has_line(const std::string& text, std::string_view line) {
  return ("\n" + text).find("\n" + std::string(line) + "\n") != std::string::npos;
}

void hosts(const std::string& text) {
  const auto once = ovz::detail::hosts_with_hostname(text, "web.example.com", "10.0.0.2");
  FUZZ_REQUIRE(ovz::detail::hosts_with_hostname(once, "web.example.com", "10.0.0.2") == once);
  FUZZ_REQUIRE(has_line(once, std::string(ovz::detail::hosts_marker) +
                                  "\n10.0.0.2\tweb.example.com web"));
  FUZZ_REQUIRE(once.ends_with('\n'));
}

void resolv(const std::string& text) {
  const std::optional<list> servers = list{"192.0.2.1", "2001:db8::1"};
  const std::optional<list> search = list{"example.com"};
  const auto once = ovz::detail::resolv_conf_with(text, servers, search);
  FUZZ_REQUIRE(ovz::detail::resolv_conf_with(once, servers, search) == once);
  FUZZ_REQUIRE(has_line(once, "search example.com"));
  FUZZ_REQUIRE(has_line(once, "nameserver 192.0.2.1\nnameserver 2001:db8::1"));
  // Nothing to set: the file as it was, each line ended.
  const auto same = ovz::detail::resolv_conf_with(text, std::nullopt, std::nullopt);
  FUZZ_REQUIRE(same == text || same == text + "\n");
}

// passwd, shadow and group as the input gives them, split at \x01.
void accounts(const std::string& text) {
  ovz::detail::account_files f;
  auto first = text.find('\x01');
  auto second = first == std::string::npos ? first : text.find('\x01', first + 1);
  f.passwd = text.substr(0, first);
  if (first != std::string::npos) f.shadow = text.substr(first + 1, second - first - 1);
  if (second != std::string::npos) f.group = text.substr(second + 1);
  auto once = ovz::detail::with_password(f, "alice", "$y$hash", 20000);
  if (!once) {
    FUZZ_REQUIRE(once.error().is(ovz::errc::unsupported) ||
                 once.error().is(ovz::errc::invalid_argument));
    return;
  }
  auto twice = ovz::detail::with_password(once->files, "alice", "$y$hash", 20000);
  FUZZ_REQUIRE(twice.has_value());
  FUZZ_REQUIRE(!twice->added);
  FUZZ_REQUIRE(twice->files.passwd == once->files.passwd);
  FUZZ_REQUIRE(twice->files.shadow == once->files.shadow);
  FUZZ_REQUIRE(twice->files.group == once->files.group);
  if (once->added) FUZZ_REQUIRE(once->added->uid >= 1000 && once->added->uid <= 59999);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string text(ovz_fuzz::as_text(data, size));
  hosts(text);
  resolv(text);
  accounts(text);
  return 0;
}
