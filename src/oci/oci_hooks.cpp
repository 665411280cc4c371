#include "oci/oci_hooks.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/host_tool.hpp"
#include "log.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace ovz::detail {
namespace {

using clock = std::chrono::steady_clock;

// A started hook as the runner sees it, wherever it runs.
struct started_hook {
  std::function<result<bool>(std::chrono::milliseconds)> ended;  // waits up to that long
  std::function<void()> kill;
  std::function<result<int>()> reap;  // its exit code, 128+N when killed by signal N
};

struct hook_pipes {
  unique_fd in_r, in_w, out_r, out_w;
};

result<hook_pipes> make_pipes(const std::string& name) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return sys_fail(errno, "{}: pipe2", name);
  hook_pipes p{unique_fd(in[0]), unique_fd(in[1]), {}, {}};
  if (::pipe2(out, O_CLOEXEC) != 0) return sys_fail(errno, "{}: pipe2", name);
  p.out_r.reset(out[0]);
  p.out_w.reset(out[1]);
  return p;
}

// Gives the started hook the state, keeps what it says, and judges how it ended.
result<void> finish(const oci_hook& h, const std::string& name, hook_pipes& pipes,
                    const started_hook& run, const std::string& state_json) {
  pipes.in_r.reset();
  pipes.out_w.reset();
  // The state fits a pipe's buffer; a hook that does not read it must not hold us up.
  (void)::fcntl(pipes.in_w.get(), F_SETFL, O_NONBLOCK);
  (void)write_all_quietly(pipes.in_w.get(), state_json);
  pipes.in_w.reset();

  const auto until = h.timeout ? clock::now() + std::chrono::seconds(*h.timeout) : clock::time_point::max();
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
  };
  std::string output;
  bool timed_out = false;
  for (;;) {
    if (h.timeout && left().count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{pipes.out_r.get(), POLLIN, 0};
    const int wait_ms = h.timeout ? static_cast<int>(std::min<long long>(left().count(), 1000)) : -1;
    if (::poll(&p, 1, wait_ms) < 0 && errno != EINTR) break;
    if (!p.revents) continue;
    char buf[4096];
    const ssize_t n = ::read(pipes.out_r.get(), buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  pipes.out_r.reset();  // one that goes on writing gets EPIPE
  // Its output closed, it may still run (or have handed the pipe to a child).
  if (!timed_out && h.timeout) {
    // One that cannot be watched is treated as overdue: killed and reaped, never left.
    auto ended = run.ended(std::max(left(), std::chrono::milliseconds(0)));
    timed_out = !ended || !*ended;
  }
  if (timed_out) run.kill();
  BOOST_OUTCOME_TRY(code, run.reap());
  if (timed_out)
    return fail(errc::child_failed, "{} ({}) did not end within its timeout of {} s", name,
                h.path, *h.timeout);
  if (code == 0) return success();
  const std::string said = last_lines(output, 5);
  return fail(errc::child_failed, "{} ({}) {}{}{}", name, h.path,
              code > 128 ? fmt::format("was killed by signal {}", code - 128)
                         : fmt::format("exited with status {}", code),
              said.empty() ? "" : ": ", said);
}

result<void> run_on_host(const oci_hook& h, const std::string& name, const std::string& state_json) {
  BOOST_OUTCOME_TRY(pipes, make_pipes(name));
  // Without env of its own a hook has the runtime's, as runc's (Go's exec.Cmd) and crun's do.
  BOOST_OUTCOME_TRY(pid, spawn_program(h.path, h.args, h.env.empty() ? nullptr : &h.env,
                                       pipes.out_w.get(), pipes.out_w.get(), {}, pipes.in_r.get()));
  auto proc = process::open(pid);
  started_hook run{
      [&](std::chrono::milliseconds t) -> result<bool> {
        if (!proc) return proc.error();
        return proc->wait_exit(t);
      },
      [pid] { ::kill(pid, SIGKILL); },
      [pid, &name]() -> result<int> {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0)
          if (errno != EINTR) return sys_fail(errno, "{}: waitpid", name);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }};
  return finish(h, name, pipes, run, state_json);
}

result<void> run_inside(const oci_hook& h, const std::string& name, const std::string& state_json,
                        const container_exec& exec) {
  BOOST_OUTCOME_TRY(pipes, make_pipes(name));
  oci_process p;
  p.args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  p.args[0] = h.path;  // the program's path is argv[0] in the container
  p.env = h.env;
  p.cwd = "/";
  oci_io io;
  io.stdin_fd = pipes.in_r.get();
  io.stdout_fd = pipes.out_w.get();
  io.stderr_fd = pipes.out_w.get();
  auto proc = exec(p, io);
  if (!proc) return with_context(proc.error(), name + " (" + h.path + ")");
  started_hook run{[&](std::chrono::milliseconds t) { return proc->wait_exit(t); },
                   [&] { (void)proc->signal(SIGKILL); }, [&] { return proc->wait(); }};
  return finish(h, name, pipes, run, state_json);
}

// `run` of each hook in order with its name, "hooks.<phase>[i]"; the first failure ends the
// list.
template <class Run>
result<void> each_hook(const std::vector<oci_hook>& hooks, std::string_view phase, Run run) {
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    BOOST_OUTCOME_TRY(run(hooks[i], fmt::format("hooks.{}[{}]", phase, i)));
  }
  return success();
}

}  // namespace

result<void> run_hooks(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json) {
  return each_hook(hooks, phase, [&](const oci_hook& h, const std::string& name) {
    return run_on_host(h, name, state_json);
  });
}

result<void> run_hooks_inside(const std::vector<oci_hook>& hooks, std::string_view phase,
                              const std::string& state_json, const container_exec& exec) {
  return each_hook(hooks, phase, [&](const oci_hook& h, const std::string& name) {
    return run_inside(h, name, state_json, exec);
  });
}

void run_hooks_warning(const std::vector<oci_hook>& hooks, std::string_view phase,
                       const std::string& state_json) {
  (void)each_hook(hooks, phase, [&](const oci_hook& h, const std::string& name) -> result<void> {
    logged(run_on_host(h, name, state_json), name);
    return success();
  });
}

}  // namespace ovz::detail
