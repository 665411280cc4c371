#include "kernel/caps.hpp"

#include "fail.hpp"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>

namespace ovz::detail {
namespace {

// Without a user namespace these act on the host, not on the VE: loading code into the
// kernel, raw device and port access, the host clock, mounts and the other CAP_SYS_ADMIN
// powers, security modules, the audit log, the kernel log, new device nodes, opening files
// by handle, BPF and perf.
constexpr int dropped_by_default[] = {
    CAP_SYS_MODULE,   CAP_SYS_RAWIO,   CAP_SYS_TIME,    CAP_SYS_ADMIN,   CAP_MAC_ADMIN,
    CAP_MAC_OVERRIDE, CAP_AUDIT_CONTROL, CAP_SYSLOG,    CAP_MKNOD,       CAP_DAC_READ_SEARCH,
    CAP_WAKE_ALARM,   CAP_BLOCK_SUSPEND, CAP_SYS_PACCT, CAP_BPF,         CAP_PERFMON,
    CAP_LINUX_IMMUTABLE, CAP_SYS_TTY_CONFIG,
};

}  // namespace

result<std::vector<int>> dropped_capabilities(std::optional<std::string_view> capability) {
  std::vector<int> drops(std::begin(dropped_by_default), std::end(dropped_by_default));
  if (!capability) return drops;
  std::istringstream words{std::string(*capability)};
  for (std::string item; words >> item;) {
    auto colon = item.rfind(':');
    std::string name = item.substr(0, colon);
    std::string state = colon == std::string::npos ? "" : item.substr(colon + 1);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.rfind("cap_", 0) != 0) name = "cap_" + name;
    // libcap reads a name up to its first character other than a letter or '_' and ignores
    // the rest, so "sys_time1" or "sys_time,mknod" would otherwise pass as sys_time.
    bool plain = std::all_of(name.begin(), name.end(),
                             [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    cap_value_t cap = 0;
    if (!plain || cap_from_name(name.c_str(), &cap) != 0)
      return fail(errc::bad_config, "CAPABILITY: unknown capability \"{}\"", item);
    if (state != "on" && state != "off")
      return fail(errc::bad_config, "CAPABILITY: \"{}\" is not NAME:on or NAME:off", item);
    drops.erase(std::remove(drops.begin(), drops.end(), cap), drops.end());
    if (state == "off") drops.push_back(cap);
  }
  // Dropping CAP_SETPCAP takes away the right to drop the rest: it goes last.
  std::stable_partition(drops.begin(), drops.end(), [](int c) { return c != CAP_SETPCAP; });
  return drops;
}

}  // namespace ovz::detail
