#include "oci/oci_listener.hpp"

#include "fail.hpp"
#include "kernel/fd_passing.hpp"
#include "oci/json_fields.hpp"

#include <ovz/oci_container.hpp>

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace ovz::detail {

seccomp_agent_link::seccomp_agent_link(const oci_seccomp& s, state_of state)
    : path_(s.listener_path), metadata_(s.listener_metadata), state_(std::move(state)) {}

result<std::unique_ptr<seccomp_agent_link>> seccomp_agent_link::open(const oci_seccomp& s,
                                                                     state_of state) {
  if (s.listener_path.size() >= sizeof(sockaddr_un{}.sun_path))
    return fail(errc::bad_config, "linux.seccomp.listenerPath {} is longer than a socket's "
                "path may be ({} bytes)", s.listener_path, sizeof(sockaddr_un{}.sun_path) - 1);
  std::unique_ptr<seccomp_agent_link> link(new seccomp_agent_link(s, std::move(state)));
  // Connected first: an agent that is not there refuses the process before it exists.
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, s.listener_path.data(), s.listener_path.size());
  link->agent_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!link->agent_) return sys_fail(errno, "socket for linux.seccomp.listenerPath");
  if (::connect(link->agent_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return sys_fail(errno, "connect to linux.seccomp.listenerPath {}", s.listener_path);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return sys_fail(errno, "socketpair for the seccomp listener");
  link->ours_.reset(pair[0]);
  link->theirs_.reset(pair[1]);
  try {
    link->thread_ = std::thread([l = link.get()] { l->run(); });
  } catch (const std::system_error& e) {
    return sys_fail(e.code().value(), "start the thread that hands the seccomp listener on");
  }
  return link;
}

seccomp_agent_link::~seccomp_agent_link() {
  if (thread_.joinable()) (void)finish();
}

void seccomp_agent_link::run() noexcept {
  try {
    auto got = receive_with_fds(ours_.get(), 16, 1, "the seccomp listener");
    if (!got) {
      outcome_ = got.error();
    } else if (!*got || (*got)->fds.empty()) {
      outcome_ = success();
    } else {
      // Handed on or not, the listener is closed here: calls the filter hands to a listener
      // that nobody holds fail with ENOSYS instead of waiting.
      outcome_ = hand_over((*got)->fds.front().get());
    }
  } catch (...) {  // an allocation: nothing else here throws
    outcome_ = sys_fail(ENOMEM, "hand the seccomp listener on");
  }
}

result<void> seccomp_agent_link::hand_over(int listener) const {
  const pid_t pid = pid_.load();
  // The runtime-spec's "container process state".
  const auto message = fmt::format(
      "{{\"ociVersion\": \"{}\", \"fds\": [\"seccompFd\"], \"pid\": {}, \"metadata\": {}, "
      "\"state\": {}}}",
      oci_spec_version, pid, json::quoted(metadata_), state_(pid));
  const std::array<int, 1> fds{listener};
  return send_with_fds(agent_.get(), message, fds,
                       "the seccomp listener to linux.seccomp.listenerPath " + path_);
}

result<void> seccomp_agent_link::finish() {
  theirs_.reset();
  // Wakes the thread where the process never sent its listener (its spawn failed first); a
  // listener sent already is still read.
  ::shutdown(ours_.get(), SHUT_RD);
  if (thread_.joinable()) thread_.join();
  agent_.reset();
  return outcome_.value_or(success());
}

}  // namespace ovz::detail
