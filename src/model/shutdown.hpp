#pragma once
// How a VE's init is asked to shut down, decided from what the host can see of it; and how
// long it is given (STOP_TIMEOUT). The signals and the initctl write are made in ve/stop.cpp.

#include <ovz/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ovz::detail {

/// The inits libovz knows how to shut down politely.
enum class init_kind { systemd, sysvinit, busybox, other };

/// The VE's init from its executable as the VE sees it (readlink of /proc/PID/exe, possibly
/// with " (deleted)" after an upgrade) and its task name (/proc/PID/comm). The VE controls
/// both, so this picks only how to ask: a wrong answer is a request init ignores, then the
/// kill after the timeout.
init_kind classify_init(std::string_view exe, std::string_view comm);

/// What each init understands as "shut down": systemd SIGRTMIN+3 (halt.target, as
/// machinectl poweroff and LXC do); sysvinit a runlevel 0 request on /run/initctl (what
/// `telinit 0` sends: sysvinit has no SIGTERM handler, and a PID namespace's init never gets
/// a signal it does not handle); busybox init SIGUSR2 (poweroff: its shutdown actions, then
/// SIGTERM and SIGKILL to all); anything else SIGTERM.
enum class shutdown_request { sigrtmin_plus_3, initctl_runlevel_0, sigusr2, sigterm };
shutdown_request shutdown_request_for(init_kind kind);

/// sysvinit's struct init_request (initreq.h) asking for `runlevel`: 384 bytes, magic
/// 0x03091969, INIT_CMD_RUNLVL, the sleep time between SIGTERM and SIGKILL that telinit sends
/// by default (5 s), the rest zero.
std::string initreq_runlevel(char runlevel);

/// How long init may take when the caller does not say (vzctl's halt waited longer, but a
/// stop that hangs for minutes on a wedged VE helps no one).
inline constexpr std::chrono::seconds default_stop_timeout{10};

/// CTID.conf's STOP_TIMEOUT: whole seconds, 0 to 86400 (a day); nullopt (unset) means the
/// default.
result<std::chrono::milliseconds> parse_stop_timeout(std::optional<std::string_view> value);

}  // namespace ovz::detail
