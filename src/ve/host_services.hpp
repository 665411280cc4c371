#pragma once
// What a VE operation reaches the host through, held by ovz::host: the cgroup backend, the
// host's netlink, the log sink. Operations take it from their ve (ve_op) instead of fetching
// process-wide singletons, so a test can point a VE at a cgroup tree in a temporary directory.

#include <ovz/host.hpp>

#include "kernel/cgroup.hpp"
#include "kernel/netlink.hpp"

#include <functional>
#include <memory>
#include <string_view>

namespace ovz::detail {

struct host_services {
  /// The backend; `owned` keeps it alive unless it is the process-wide one (host_cgroups()).
  cgroup_backend* cgroups = nullptr;
  std::shared_ptr<cgroup_backend> owned{};
  std::function<void(std::string_view)> log_sink{};

  cgroup_backend& cg() const { return *cgroups; }
  /// A route netlink socket in the host's network namespace.
  result<netlink::socket> netlink() const { return netlink::socket::open(); }
  /// Reports what cannot be returned as an error; dropped without a sink.
  void log(std::string_view message) const {
    if (log_sink) log_sink(message);
  }
};

}  // namespace ovz::detail
