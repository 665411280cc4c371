#pragma once
// Kernel parameters that belong to a namespace (net.*, the System V IPC and POSIX message
// queue limits, the UTS names), set in a process's namespaces from a thread of ours that
// enters them: /proc/sys shows the namespace of whoever opens its files.

#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>

namespace ovz::detail {

/// The namespace whose parameter `key` ("net.ipv4.ip_forward") is; errc::invalid_argument
/// for one that is the whole host's.
result<ns_type> sysctl_namespace(std::string_view key);

/// Writes each parameter in the namespaces of `pid`.
result<void> write_ns_sysctls(pid_t pid, const std::map<std::string, std::string>& values);

}  // namespace ovz::detail
