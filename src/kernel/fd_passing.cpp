#include "kernel/fd_passing.hpp"

#include "fail.hpp"

#include <sys/socket.h>

#include <cstring>

namespace ovz::detail {

result<std::optional<fd_message>> receive_with_fds(int sock, std::size_t max_bytes,
                                                   std::size_t max_fds, std::string_view what) {
  fd_message m;
  m.bytes.resize(max_bytes);
  iovec iov{m.bytes.data(), m.bytes.size()};
  std::vector<char> control(CMSG_SPACE(max_fds * sizeof(int)));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_fail(errno, "receive {}", what);
  if (n == 0) return std::nullopt;
  m.bytes.resize(static_cast<std::size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (m.fds.size() < max_fds) m.fds.emplace_back(fd); else ::close(fd);
    }
  }
  return std::optional<fd_message>(std::move(m));
}

result<void> send_with_fds(int sock, std::string_view bytes, std::span<const int> fds,
                           std::string_view what) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  std::vector<char> control(CMSG_SPACE(fds.size() * sizeof(int)));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  }
  if (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) return sys_fail(errno, "send {}", what);
  return success();
}

}  // namespace ovz::detail
