#pragma once
/// @file
/// A watcher that tells when a VE's beancounter refusals (failcnt) grow, on a Boost.Asio
/// io_context, so a panel can alert without polling by hand.

#include <ovz/beancounter.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace ovz {

struct ubc_event {
  ctid id;
  ubc_resource resource = ubc_resource::numproc;
  std::uint64_t failcnt = 0;   ///< the count now
  std::uint64_t previous = 0;  ///< the count before
};

/// Watches the kernel-counted beancounters of one VE (numproc, physpages, swappages,
/// kmemsize). On cgroup v2 the kernel's notifications on memory.events and pids.events wake
/// it at once; on v1, whose failcnt files do not notify, it polls. It also polls on v2, so
/// that a restarted VE (a new cgroup) is picked up. Handlers run on the io_context's threads.
class OVZ_API ubc_watcher {
 public:
  using handler = std::function<void(const ubc_event&)>;

  /// Starts watching `v`; counts grown before this call are not reported.
  static result<std::unique_ptr<ubc_watcher>> start(
      boost::asio::io_context& io, const ve& v, handler on_failure,
      std::chrono::milliseconds poll_interval = std::chrono::seconds(1));

  /// Stops watching; no handler runs after it returns (unless one is running right now on
  /// another thread of the io_context).
  ~ubc_watcher();
  ubc_watcher(const ubc_watcher&) = delete;
  ubc_watcher& operator=(const ubc_watcher&) = delete;

  struct state;

 private:
  explicit ubc_watcher(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

}  // namespace ovz
