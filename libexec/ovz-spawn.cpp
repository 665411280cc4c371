// ovz-spawn: spawn's helper (src/kernel/spawn_wire.hpp). Not meant to be run by hand.
//
// "--spawn=FD": started with the plan's descriptors under their numbers and the plan on the
// pipe FD; it goes on as spawn's first child: forks the process, reports its PID, and becomes
// its monitor or waits for it.
//
// "--serve=FD": a caller's spawn server, started once and kept: each message on the socket FD
// is a plan with its descriptors (SCM_RIGHTS, in the order of the plan's own list); the server
// forks a first child that is the caller's own (CLONE_PARENT), which places the descriptors
// under the plan's numbers and goes on as above, and answers with that child's PID and pidfd.
// It ends when the caller closes the socket. A program's start costs far more than a fork
// (glibc's start-up asks the CPU what it is, a trap to the hypervisor each time in a VM), so
// the server pays it once.
//
// Linked statically, with nothing of libovz but that: its exec maps no library and runs no
// initialiser.

#include "kernel/proc_stat.hpp"
#include "kernel/raw.hpp"
#include "kernel/spawn_wire.hpp"
#include "kernel/sys.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace raw = ovz::detail::raw;
namespace spawning = ovz::detail::spawning;

namespace {

// Named as a forked child that has not run its program yet: the process it forks starts with
// this name, which spawn reads to tell whether it got to its exec.
void name_as_child() {
  raw::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(ovz::detail::spawn_child_name));
}

[[noreturn]] void go_on(ovz::detail::received_plan& r) {
  spawning::close_others(r.p);
  // The descriptors came without their close-on-exec flags, to be handed over.
  raw::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
  if (r.detach && r.p.monitor_path) spawning::leave_caller(r.p);
  spawning::intermediate_child(r.p, r.detach);
}

int run_once(int fd) {
  name_as_child();
  std::string in;
  char buf[16384];
  for (;;) {
    const ssize_t n = raw::read(fd, buf, sizeof buf);
    if (n > 0) {
      in.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  raw::close(fd);
  // Never freed: the helper ends in an exec or an exit.
  auto* r = new ovz::detail::received_plan;
  if (!ovz::detail::decode_plan(in, *r)) return 2;
  go_on(*r);
}

// In the forked first child: the received descriptors under the plan's numbers, first lifted
// above all of those so that none is overwritten before it is moved.
[[noreturn]] void serve_child(std::string_view plan, const std::vector<int>& got) {
  name_as_child();
  auto* r = new ovz::detail::received_plan;
  if (!ovz::detail::decode_plan(plan, *r)) raw::exit_group(2);
  const auto want = ovz::detail::passed_fds(r->p);
  if (want.size() != got.size()) raw::exit_group(2);
  int lowest = 3;
  for (int fd : want) lowest = std::max(lowest, fd + 1);
  for (int fd : got) lowest = std::max(lowest, fd + 1);
  std::vector<int> lifted;
  for (int fd : got) {
    lifted.push_back(raw::dup_above(fd, lowest));
    if (lifted.back() < 0) raw::exit_group(2);
    raw::close(fd);
  }
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (raw::dup2(lifted[i], want[i]) < 0) raw::exit_group(2);
    raw::close(lifted[i]);
  }
  go_on(*r);
}

// Sends the answer: the first child's PID with its pidfd, or minus the errno of the fork.
void answer(int sock, std::int32_t pid, int pidfd) {
  struct iovec iov = {&pid, sizeof pid};
  alignas(struct cmsghdr) unsigned char buf[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (pidfd >= 0) {
    auto* head = reinterpret_cast<cmsghdr*>(buf);
    head->cmsg_level = SOL_SOCKET;
    head->cmsg_type = SCM_RIGHTS;
    head->cmsg_len = CMSG_LEN(sizeof(int));
    *reinterpret_cast<int*>(CMSG_DATA(head)) = pidfd;
    msg.msg_control = buf;
    msg.msg_controllen = sizeof buf;
  }
  (void)::sendmsg(sock, &msg, MSG_NOSIGNAL);
}

int serve(int sock) {
  (void)prctl(PR_SET_NAME, reinterpret_cast<unsigned long>("ovz-spawnd"));
  std::vector<char> plan(1 << 16);
  constexpr std::size_t control_size = CMSG_SPACE(ovz::detail::max_passed_fds * sizeof(int));
  alignas(struct cmsghdr) static unsigned char control[control_size];
  for (;;) {
    // The whole message's size first, without taking it.
    const ssize_t size = ::recv(sock, nullptr, 0, MSG_PEEK | MSG_TRUNC);
    if (size == 0) return 0;
    if (size < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (static_cast<std::size_t>(size) > plan.size()) plan.resize(static_cast<std::size_t>(size));
    struct iovec iov = {plan.data(), plan.size()};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return n == 0 ? 0 : 1;
    }
    std::vector<int> got;
    for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const int* fds = reinterpret_cast<const int*>(CMSG_DATA(c));
      got.insert(got.end(), fds, fds + count);
    }
    int pidfd = -1;
    const pid_t pid = ovz::detail::clone3_fork(CLONE_PARENT | CLONE_PIDFD, &pidfd);
    if (pid == 0) {
      raw::close(sock);
      serve_child(std::string_view(plan.data(), static_cast<std::size_t>(n)), got);
    }
    for (int fd : got) raw::close(fd);
    answer(sock, pid > 0 ? pid : -errno, pid > 0 ? pidfd : -1);
    if (pidfd >= 0) raw::close(pidfd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view once = "--spawn=";
  constexpr std::string_view server = "--serve=";
  if (argc != 2) return 2;
  const std::string_view arg = argv[1];
  if (arg.starts_with(once)) return run_once(std::atoi(argv[1] + once.size()));
  if (arg.starts_with(server)) return serve(std::atoi(argv[1] + server.size()));
  return 2;
}
