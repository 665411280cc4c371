#include "kernel/ns_sysctl.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/ns_thread.hpp"

#include <sched.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace ovz::detail {
namespace {

constexpr std::array<std::string_view, 8> ipc_keys{
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",  "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};

}  // namespace

result<ns_type> sysctl_namespace(std::string_view key) {
  if (key.starts_with("net.")) return ns_type::net;
  if (key.starts_with("fs.mqueue.") ||
      std::find(ipc_keys.begin(), ipc_keys.end(), key) != ipc_keys.end())
    return ns_type::ipc;
  if (key == "kernel.hostname" || key == "kernel.domainname") return ns_type::uts;
  return fail(errc::invalid_argument, "sysctl {} is the whole host's, not a namespace's", key);
}

result<void> write_ns_sysctls(pid_t pid, const std::map<std::string, std::string>& values) {
  if (values.empty()) return success();
  std::vector<std::pair<ns_type, ns_handle>> entered;
  for (const auto& [key, value] : values) {
    BOOST_OUTCOME_TRY(type, sysctl_namespace(key));
    if (std::any_of(entered.begin(), entered.end(), [t = type](const auto& e) { return e.first == t; }))
      continue;
    BOOST_OUTCOME_TRY(ns, ns_handle::open(pid, type));
    entered.emplace_back(type, std::move(ns));
  }
  return on_own_thread<void>("set the namespaces' sysctls", [&]() -> result<void> {
    for (const auto& [type, ns] : entered)
      if (::setns(ns.fd(), clone_flag(type)) != 0)
        return sys_fail(errno, "setns into the {} namespace of PID {}", ns_name(type), pid);
    for (const auto& [key, value] : values) {
      std::string path = "/proc/sys/" + key;
      std::replace(path.begin() + 10, path.end(), '.', '/');
      BOOST_OUTCOME_TRY(write_file(path, value));
    }
    return success();
  });
}

}  // namespace ovz::detail
