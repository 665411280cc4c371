#pragma once
// What a VE operation reaches the host through, held by ovz::host: the cgroup manager and the
// host's netlink. (What the library goes on past goes to the log channel, src/log.hpp.) Operations take it from their ve (ve_op) instead of fetching
// process-wide singletons, so a test can point a VE at a cgroup tree in a temporary directory.

#include <ovz/host.hpp>

#include "kernel/cgroup_manager.hpp"
#include "kernel/netlink.hpp"

#include <memory>

namespace ovz::detail {

struct host_services {
  /// The manager; `owned` keeps it alive unless it is the process-wide one (host_cgroups()).
  cgroup_manager* cgroups = nullptr;
  std::shared_ptr<cgroup_manager> owned{};

  cgroup_manager& cg() const { return *cgroups; }
  /// A route netlink socket in the host's network namespace.
  result<netlink::socket> netlink() const { return netlink::socket::open(); }
};

}  // namespace ovz::detail
