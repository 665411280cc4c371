#include "oci/oci_hooks.hpp"

#include "fail.hpp"
#include "kernel/host_tool.hpp"
#include "kernel/proc_stat.hpp"
#include "log.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace ovz::detail {
namespace {

result<void> run_hook(const oci_hook& h, const std::string& name, const std::string& state_json) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return sys_fail(errno, "{}: pipe2", name);
  unique_fd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return sys_fail(errno, "{}: pipe2", name);
  unique_fd out_r(out[0]), out_w(out[1]);
  // Without env of its own a hook has the runtime's, as runc's (Go's exec.Cmd) and crun's do.
  BOOST_OUTCOME_TRY(pid, spawn_program(h.path, h.args, h.env.empty() ? nullptr : &h.env,
                                       out_w.get(), out_w.get(), {}, in_r.get()));
  in_r.reset();
  out_w.reset();
  unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  // The state fits a pipe's buffer; a hook that does not read it must not hold us up.
  (void)::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  (void)::write(in_w.get(), state_json.data(), state_json.size());
  in_w.reset();

  using clock = std::chrono::steady_clock;
  const auto until = h.timeout ? clock::now() + std::chrono::seconds(*h.timeout) : clock::time_point::max();
  std::string output;
  bool timed_out = false;
  for (bool open = true; open;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    if (h.timeout && left.count() <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{out_r.get(), POLLIN, 0};
    const int wait_ms = h.timeout ? static_cast<int>(std::min<long long>(left.count(), 1000)) : -1;
    if (::poll(&p, 1, wait_ms) < 0 && errno != EINTR) break;
    if (p.revents) {
      char buf[4096];
      const ssize_t n = ::read(out_r.get(), buf, sizeof buf);
      if (n > 0) {
        output.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        open = false;
      }
    }
  }
  out_r.reset();  // one that goes on writing gets EPIPE
  if (!timed_out && h.timeout && pidfd) {
    // Its output closed; it may still run.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    pollfd p{pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return sys_fail(errno, "{}: waitpid", name);
  if (timed_out)
    return fail(errc::child_failed, "{} ({}) did not end within its timeout of {} s", name,
                h.path, *h.timeout);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return success();
  const std::string said = last_lines(output, 5);
  return fail(errc::child_failed, "{} ({}) {}{}{}", name, h.path, describe_exit(status),
              said.empty() ? "" : ": ", said);
}

}  // namespace

result<void> run_hooks(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json) {
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const auto name = fmt::format("hooks.{}[{}]", phase, i);
    BOOST_OUTCOME_TRY(run_hook(hooks[i], name, state_json));
  }
  return success();
}

void run_hooks_warning(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json) {
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const auto name = fmt::format("hooks.{}[{}]", phase, i);
    logged(run_hook(hooks[i], name, state_json), name);
  }
}

}  // namespace ovz::detail
