#include <sys/capability.h>

#include <algorithm>
#include <string>
#include <vector>

#include <ovz/security.hpp>

#include "kernel/caps.hpp"
#include "support/temp_root.hpp"

using ovz::errc;
using ovz::detail::dropped_capabilities;

namespace {

bool drops(const std::vector<int>& list, int cap) {
  return std::find(list.begin(), list.end(), cap) != list.end();
}

}  // namespace

TEST_CASE("CAPABILITY turns default drops on and other capabilities off", "[caps]") {
  auto defaults = MUST(dropped_capabilities({}, false));
  CHECK(drops(defaults, CAP_SYS_TIME));
  CHECK(drops(defaults, CAP_SYS_ADMIN));
  CHECK(drops(defaults, CAP_SYS_RESOURCE));
  CHECK_FALSE(drops(defaults, CAP_NET_ADMIN));

  auto changed = MUST(dropped_capabilities(
      MUST(ovz::parse_capabilities("sys_time:on CAP_NET_ADMIN:off\tSetPCap:off")), false));
  CHECK_FALSE(drops(changed, CAP_SYS_TIME));
  CHECK(drops(changed, CAP_NET_ADMIN));
  CHECK(drops(changed, CAP_SYS_MODULE));
  CHECK(changed.back() == CAP_SETPCAP);
}

TEST_CASE("root of a VE in a user namespace keeps what acts on its own namespaces only",
          "[caps]") {
  auto defaults = MUST(dropped_capabilities({}, true));
  for (int cap : {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_RESOURCE, CAP_MKNOD, CAP_SYS_NICE}) {
    INFO(cap);
    CHECK_FALSE(drops(defaults, cap));
  }
  for (int cap : {CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE}) {
    INFO(cap);
    CHECK(drops(defaults, cap));
  }
  auto changed =
      MUST(dropped_capabilities(MUST(ovz::parse_capabilities("sys_admin:off sys_time:on")), true));
  CHECK(drops(changed, CAP_SYS_ADMIN));
  CHECK_FALSE(drops(changed, CAP_SYS_TIME));
}

// libcap's cap_from_name() stops at the first character outside [A-Za-z_] and ignores the
// rest; these were all taken for the capability before it. The last is what the fuzzer found:
// a control character is no word separator, so the state of the second item was ignored.
TEST_CASE("CAPABILITY refuses a known name with anything after it", "[caps]") {
  // Each with how the message quotes it: control characters escaped.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"sys_time1:on", "sys_time1:on"},
      {"sys_time,mknod:off", "sys_time,mknod:off"},
      {"sys_time-x:on", "sys_time-x:on"},
      {"sys_time:x:on", "sys_time:x:on"},
      {std::string("sys_time\0x:on", 13), "sys_time\\x00x:on"},
      {"setpcap:off\x10mknod:on", "setpcap:off\\x10mknod:on"}};
  for (const auto& [bad, quoted] : refused) {
    INFO(bad);
    auto r = ovz::parse_capabilities(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK(r.error().message() == "CAPABILITY: unknown capability \"" + quoted + "\"");
  }
}
