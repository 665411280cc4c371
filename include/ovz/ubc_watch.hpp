#pragma once
/// @file
/// Watchers that tell when a VE's beancounter refusals (failcnt) grow, so a panel can alert
/// without polling by hand: one on a Boost.Asio io_context, one that queues the events for a
/// program to read when it likes (and for the C and Python bindings).

#include <ovz/beancounter.hpp>
#include <ovz/export.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace ovz::inline v0 {

/// A disk quota limit of a VE (DISKSPACE, DISKINODES), as a watcher reports its soft part.
enum class disk_resource { diskspace, diskinodes };
/// "diskspace" or "diskinodes".
OVZ_API const char* to_string(disk_resource r) noexcept;

struct ubc_event {
  ctid id;
  /// The beancounter whose failcnt grew; unused when `disk` is set.
  ubc_resource resource = ubc_resource::numproc;
  std::uint64_t failcnt = 0;   ///< the count now
  std::uint64_t previous = 0;  ///< the count before
  /// Set when the VE's disk usage went above that limit's soft value; failcnt then counts
  /// such crossings since the watcher started. Where the kernel keeps no quota this event is
  /// all a soft limit does (kernel_keeps_disk_quota()).
  std::optional<disk_resource> disk{};
};

/// The event's resource as vzctl names it: "numproc", …, or "diskspace", "diskinodes".
OVZ_API const char* resource_name(const ubc_event& e) noexcept;

/// Watches the kernel-counted beancounters of one VE (numproc, physpages, swappages,
/// kmemsize). On cgroup v2 the kernel's notifications on memory.events and pids.events wake
/// it at once. Where the ovz kernel module (kmod/) is loaded it also waits on /dev/ovz, which
/// wakes within the module's 250 ms sampling when a VE's memory or swap failcnt moved: on
/// cgroup v1, whose failcnt files do not notify, physpages' and swappages' refusals are
/// then reported that soon; numproc's and kmemsize's, which the module does not watch, at
/// the next poll (as everything there without the module). It polls on both, so that a
/// restarted VE (a new cgroup) is picked up. Each poll of a running VE with a disk image
/// also compares its usage with the soft limits of DISKSPACE and DISKINODES (as CTID.conf
/// has them then). A watcher holds /dev/ovz open (the module cannot be unloaded meanwhile).
/// Handlers run on the io_context's threads.
class OVZ_API ubc_watcher {
 public:
  using handler = std::function<void(const ubc_event&)>;

  /// Starts watching `v`; counts grown before this call are not reported. A poll interval
  /// that is not positive is refused.
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

/// The ubc_watcher on a thread and io_context of its own, its events queued until next()
/// reads them: for programs without an io_context, and for the C and Python bindings. An
/// event not read yet takes in later growth of its resource (failcnt moves on, previous
/// stays), so a slow reader misses no refusal and the queue never holds more than one event
/// per watched resource. Thread-safe.
class OVZ_API ubc_event_queue {
 public:
  /// Starts watching `v` as ubc_watcher::start() does.
  static result<std::unique_ptr<ubc_event_queue>> start(
      const ve& v, std::chrono::milliseconds poll_interval = std::chrono::seconds(1));

  /// The oldest event, waiting up to `timeout` for one (a negative timeout waits as long as it
  /// takes); nullopt when none came in time.
  result<std::optional<ubc_event>> next(std::chrono::milliseconds timeout);

  /// Readable while an event waits, for poll(2), select or an event loop of the program's
  /// own; the events are read with next(), never from the descriptor.
  int fd() const noexcept;

  /// Stops watching and the thread; events not read are dropped.
  ~ubc_event_queue();
  ubc_event_queue(const ubc_event_queue&) = delete;
  ubc_event_queue& operator=(const ubc_event_queue&) = delete;

  struct state;

 private:
  explicit ubc_event_queue(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace ovz::inline v0
