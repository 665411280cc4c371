// ovz-spawn: spawn's helper (src/kernel/spawn_wire.hpp). The caller starts it with the plan's
// descriptors under their numbers and the plan on the pipe named by "--spawn=FD"; it goes on
// as spawn's first child: forks the process, reports its PID, and becomes its monitor or waits
// for it. Linked statically, with nothing of libovz but that: its exec maps no library and runs
// no initialiser. Not meant to be run by hand.

#include "kernel/proc_stat.hpp"
#include "kernel/raw.hpp"
#include "kernel/spawn_wire.hpp"

#include <sys/prctl.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>

namespace raw = ovz::detail::raw;
namespace spawning = ovz::detail::spawning;

int main(int argc, char** argv) {
  constexpr std::string_view flag = "--spawn=";
  if (argc != 2 || !std::string_view(argv[1]).starts_with(flag)) return 2;
  const int fd = std::atoi(argv[1] + flag.size());
  // Named as a forked child that has not run its program yet: the process it forks starts with
  // this name, which spawn reads to tell whether it got to its exec.
  raw::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(ovz::detail::spawn_child_name));
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
  spawning::close_others(r->p);
  // posix_spawn cleared the close-on-exec flags of the caller's descriptors to hand them over.
  raw::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
  if (r->detach && r->p.monitor_path) spawning::leave_caller(r->p);
  spawning::intermediate_child(r->p, r->detach);
}
