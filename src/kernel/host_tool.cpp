#include "kernel/host_tool.hpp"

#include "fail.hpp"
#include "kernel/proc_stat.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/ranges.h>

namespace ovz::detail {
namespace {

class file_actions {
 public:
  file_actions() { ::posix_spawn_file_actions_init(&fa_); }
  ~file_actions() { ::posix_spawn_file_actions_destroy(&fa_); }
  file_actions(const file_actions&) = delete;
  file_actions& operator=(const file_actions&) = delete;
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

class spawn_attr {
 public:
  spawn_attr() { ::posix_spawnattr_init(&attr_); }
  ~spawn_attr() { ::posix_spawnattr_destroy(&attr_); }
  spawn_attr(const spawn_attr&) = delete;
  spawn_attr& operator=(const spawn_attr&) = delete;
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

}  // namespace

std::string last_lines(std::string output, int count) {
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  std::size_t from = output.size();
  for (int n = 0; n < count && from != std::string::npos && from > 0; ++n)
    from = output.rfind('\n', from - 1);
  if (from != std::string::npos && from > 0) output = "…" + output.substr(from);
  return output;
}

result<pid_t> spawn_tool(const std::vector<std::string>& argv, int out_fd, int err_fd,
                         const std::vector<int>& extra, int in_fd) {
  return spawn_program(argv.at(0), argv, nullptr, out_fd, err_fd, extra, in_fd);
}

result<pid_t> spawn_program(const std::string& path, const std::vector<std::string>& argv,
                            const std::vector<std::string>* env, int out_fd, int err_fd,
                            const std::vector<int>& extra, int in_fd) {
  const std::string command = argv.empty() ? path : fmt::format("{}", fmt::join(argv, " "));
  // Each extra descriptor copied above every number they are to get first (closed on exec),
  // so that no dup2 in the child overwrites one still to be moved.
  std::vector<unique_fd> above;
  const int first_free = 3 + static_cast<int>(extra.size());
  for (int fd : extra) {
    above.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, first_free));
    if (!above.back()) return sys_fail(errno, "{}: copy descriptor {}", command, fd);
  }
  file_actions actions;
  auto to = [&](int fd, int target) {
    return fd >= 0 ? ::posix_spawn_file_actions_adddup2(actions.get(), fd, target)
                   : ::posix_spawn_file_actions_addopen(actions.get(), target, "/dev/null",
                                                        O_WRONLY, 0);
  };
  int rc = in_fd >= 0
               ? ::posix_spawn_file_actions_adddup2(actions.get(), in_fd, 0)
               : ::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = to(out_fd, 1);
  if (rc == 0) rc = to(err_fd, 2);
  for (std::size_t i = 0; rc == 0 && i < above.size(); ++i)
    rc = ::posix_spawn_file_actions_adddup2(actions.get(), above[i].get(), 3 + static_cast<int>(i));

  // The embedding program's threads may block or handle signals; the tool must start clean.
  spawn_attr attr;
  sigset_t none;
  sigset_t all;
  ::sigemptyset(&none);
  ::sigfillset(&all);
  if (rc == 0) rc = ::posix_spawnattr_setsigmask(attr.get(), &none);
  if (rc == 0) rc = ::posix_spawnattr_setsigdefault(attr.get(), &all);
  if (rc == 0)
    rc = ::posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (rc != 0) return sys_fail(rc, "{}: posix_spawn setup", command);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  if (args.empty()) args.push_back(const_cast<char*>(path.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (env) {
    for (const auto& e : *env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  pid_t pid = 0;
  rc = ::posix_spawnp(&pid, path.c_str(), actions.get(), attr.get(), args.data(),
                      env ? envp.data() : environ);
  if (rc != 0) return sys_fail(rc, "{}: posix_spawnp", command);
  return pid;
}

result<std::string> run_tool(const std::vector<std::string>& argv, capture what,
                             int last_good) {
  std::string command = fmt::format("{}", fmt::join(argv, " "));

  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return sys_fail(errno, "{}: pipe2", command);
  unique_fd read_end(ends[0]);
  unique_fd write_end(ends[1]);
  BOOST_OUTCOME_TRY(pid, spawn_tool(argv, write_end.get(),
                                    what == capture::out_and_err ? write_end.get() : -1));
  // Otherwise our copy of the write end would keep the pipe from ever reaching EOF.
  write_end.reset();

  std::string output;
  int read_errno = 0;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      read_errno = errno;
      break;
    }
  }
  // Closed before waiting so a tool still writing gets EPIPE instead of blocking forever.
  read_end.reset();

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return sys_fail(errno, "{}: waitpid", command);
  }
  if (read_errno != 0) return sys_fail(read_errno, "{}: reading its output", command);
  if (WIFEXITED(status) && WEXITSTATUS(status) <= last_good) return output;

  // A tool's last lines say why it failed (debootstrap logs hundreds before them).
  output = last_lines(std::move(output), 15);
  if (output.empty()) return fail(errc::child_failed, "{}: {}", command, describe_exit(status));
  return fail(errc::child_failed, "{}: {}: {}", command, describe_exit(status), output);
}

}  // namespace ovz::detail
