#pragma once
// The per-VE monitor: a small program (ovz-monitor, installed in libexec) that spawn executes
// as the parent of a VE's init (spawn_spec::monitor). It outlives whoever started the VE,
// holds the VE's console (the master of its /dev/console) and copies it into
// log/CTID.console and to attached clients (run/CTID.console), and sees init's exit status:
// a reboot inside (init killed with SIGHUP by reboot(2) in its PID namespace) becomes a
// restart, a halt or any other end a stop whose clean-up (cgroup, host-side network) is done
// at once. In a VE without a user namespace it also carries out the mounts and hostname
// changes its root may make (ve/syscall_broker.hpp). It is a separate program because that work needs the whole library, which a clone
// of a multi-threaded caller may not use before it execs.

#include <ovz/ctid.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>

#include "model/layout.hpp"

#include <filesystem>
#include <optional>

namespace ovz::detail {

/// The first of process_monitor::fds in the monitor (the console's listening socket).
inline constexpr int monitor_first_extra_fd = 5;

/// The byte the monitor sends a console client it has taken on: from then on the client gets
/// all the console's output. open_console waits for it, so that nothing written to the console
/// after it returns is missed by a monitor that had not yet accepted the connection.
inline constexpr char console_welcome = '\x06';

/// The monitor's task name (comm): how stop tells it from whatever else may be init's parent.
inline constexpr const char monitor_name[] = "ovz-monitor";

/// The monitor program: $OVZ_MONITOR, else ovz-monitor beside the loaded libovz (a build
/// tree), else where it is installed.
result<std::filesystem::path> find_monitor();
/// spawn's helper program (spawn_spec::helper), ovz-spawn, looked for as the monitor is (beside
/// $OVZ_MONITOR first); empty where there is none, and spawn forks instead. Empty also where
/// $OVZ_SPAWN_HELPER is "none": a caller small and short-lived (ovzctl) forks for less than
/// the helper's start costs it.
std::string spawn_helper();

/// How spawn starts the monitor of VE `id` of `state_root`; `foreground`: the VE was started
/// by ve::run, whose caller waits for it, so the monitor exits with init's exit code and
/// neither restarts nor cleans up.
process_monitor monitor_spec(const std::filesystem::path& program, ctid id,
                             const std::filesystem::path& state_root, bool foreground);

/// The listening socket of the VE's console (run/CTID.console), made before the spawn and
/// handed to the monitor, so that clients may connect as soon as start returns. Made under
/// the VE's lock, which clean_up (ve/live_state.hpp) also holds when it removes it.
result<unique_fd> bind_console(const ve_paths& l);

/// The listening socket on which the monitor takes the seccomp listeners of commands run in a
/// brokered VE (run/CTID.broker), made and removed as bind_console's.
result<unique_fd> bind_broker(const ve_paths& l);

/// A connection to the listening socket at `path` (ENOENT or ECONNREFUSED: no monitor serves it).
result<unique_fd> connect_to(const std::filesystem::path& path);

/// A connection to the monitor's broker socket, for a command's filter to send its listener
/// over (spawn_spec::seccomp_listener_socket).
result<unique_fd> connect_broker(const ve_paths& l);

/// A monitor for a VE whose init CRIU restores: it runs `criu swrk` as its child on
/// `their_end` (the service's end of the socket the library speaks CRIU's RPC on), its output
/// to `output`, so that the restored init (CRIU's sibling) is its child; then it waits on that
/// socket for hand_restored_init. Detached, as a started VE's.
result<process> start_restoring_monitor(const std::filesystem::path& program, ctid id,
                                        const std::filesystem::path& state_root, int their_end,
                                        int output);

/// Gives the restoring monitor, over the library's end of the socket (`sock`), the restored
/// init and the descriptors it serves: the console's master, the console's listening socket
/// (bind_console), the broker's (bind_broker; -1 for a VE without one) and the ovz module's
/// file the init is registered through (-1: none). It then serves the VE as it serves a
/// started one.
result<void> hand_restored_init(int sock, pid_t init, int master, int console_listener,
                                int broker_listener, int module);

/// The monitor's main: its arguments as monitor_spec made them, plus "--init=PID".
int run_monitor(int argc, char** argv);

/// The monitor of a VE's init, while both run; nothing for a process without one.
result<std::optional<process>> monitor_of(pid_t init);

/// The size of the VE's console log now (0 if it has none): where a start's output begins.
std::uint64_t console_size(const ve_paths& l);

/// Up to the last `max_lines` lines the VE's console log got after `from` (console_size before
/// a start), for an error about that start.
std::string console_tail(const ve_paths& l, std::uint64_t from, std::size_t max_lines = 12);

}  // namespace ovz::detail
