#pragma once
// What the systemd cgroup manager asks of a systemd: start a transient scope around a process,
// say where a unit's cgroup is, stop a unit and wait until systemd has forgotten it. Over
// sd-bus, straight to the manager's private socket (no D-Bus daemon, which a host may lack),
// one connection per operation: sd-bus connections are neither thread-safe nor usable in a
// forked child, and libovz is embedded in multi-threaded programs that may fork.

#include <ovz/result.hpp>

#include <sys/types.h>

#include <chrono>
#include <string>

struct sd_bus;

namespace ovz::detail {

/// A transient scope: StartTransientUnit's name and properties.
struct scope_spec {
  std::string unit;         // "….scope"
  std::string slice;        // "machine.slice"
  std::string description;  // what `systemctl status` shows
  pid_t pid = 0;            // its first process
};

class systemd_bus {
 public:
  /// Connects to the systemd manager at `address` (sd-bus's spelling:
  /// "unix:path=/run/systemd/private").
  static result<systemd_bus> connect(const std::string& address);
  systemd_bus(systemd_bus&& other) noexcept;
  systemd_bus& operator=(systemd_bus&&) = delete;
  ~systemd_bus();

  /// The manager's own cgroup, relative to the hierarchy's root: "" for the system's (the
  /// root), its user@.service or whatever cgroup it was started in for a user manager.
  result<std::string> control_group();
  /// Starts the scope with Delegate=yes (the subtree below its cgroup is the caller's) and
  /// waits for its start job. errc::already_exists when systemd still knows a unit of that
  /// name (one being stopped or not yet forgotten).
  result<void> start_scope(const scope_spec& s, std::chrono::milliseconds timeout);
  /// The cgroup of a loaded scope, relative to the hierarchy's root.
  result<std::string> scope_control_group(const std::string& unit);
  /// Stops the unit, waits for the stop job and then until systemd has forgotten the unit;
  /// fine when it knows no such unit.
  result<void> stop_and_forget(const std::string& unit, std::chrono::milliseconds timeout);
  /// True while systemd knows (has loaded) the unit.
  result<bool> knows(const std::string& unit);

  const std::string& address() const noexcept { return address_; }

 private:
  systemd_bus(sd_bus* bus, std::string address) : bus_(bus), address_(std::move(address)) {}
  sd_bus* bus_;
  std::string address_;
};

}  // namespace ovz::detail
