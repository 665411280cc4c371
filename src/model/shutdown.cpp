#include "model/shutdown.hpp"

#include "fail.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace ovz::detail {

init_kind classify_init(std::string_view exe, std::string_view comm) {
  constexpr std::string_view deleted = " (deleted)";
  if (exe.ends_with(deleted)) exe.remove_suffix(deleted.size());
  while (comm.ends_with('\n')) comm.remove_suffix(1);
  std::string_view base = exe.substr(exe.rfind('/') + 1);
  if (base == "systemd") return init_kind::systemd;
  // busybox is also the shell of its template: only its init applet takes SIGUSR2 for poweroff.
  if (base == "busybox") return comm == "init" ? init_kind::busybox : init_kind::other;
  // sysvinit-core installs its init as /sbin/init itself (systemd-sysv makes that a symlink to
  // systemd, which the kernel resolved above); the task name tells it from a renamed binary.
  if ((exe == "/sbin/init" || exe == "/usr/sbin/init") && comm == "init") return init_kind::sysvinit;
  return init_kind::other;
}

shutdown_request shutdown_request_for(init_kind kind) {
  switch (kind) {
    case init_kind::systemd: return shutdown_request::sigrtmin_plus_3;
    case init_kind::sysvinit: return shutdown_request::initctl_runlevel_0;
    case init_kind::busybox: return shutdown_request::sigusr2;
    case init_kind::other: break;
  }
  return shutdown_request::sigterm;
}

std::string initreq_runlevel(char runlevel) {
  // struct init_request { int magic, cmd, runlevel, sleeptime; char data[368]; }
  constexpr std::int32_t magic = 0x03091969;
  constexpr std::int32_t init_cmd_runlvl = 1;
  constexpr std::int32_t telinit_sleep = 5;
  const std::int32_t header[4] = {magic, init_cmd_runlvl, runlevel, telinit_sleep};
  std::string req(384, '\0');
  std::memcpy(req.data(), header, sizeof header);
  return req;
}

result<std::chrono::milliseconds> parse_stop_timeout(std::optional<std::string_view> value) {
  if (!value) return std::chrono::milliseconds(default_stop_timeout);
  std::uint32_t seconds = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), seconds);
  if (value->empty() || ec != std::errc() || end != value->data() + value->size() ||
      seconds > 86400) {
    return fail(errc::bad_config,
                "STOP_TIMEOUT=\"{}\" is not a number of seconds from 0 to 86400",
                excerpt(*value));
  }
  return std::chrono::milliseconds(std::chrono::seconds(seconds));
}

}  // namespace ovz::detail
