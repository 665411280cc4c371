#include "kernel/cgroup_common.hpp"

#include "kernel/files.hpp"

#include <unistd.h>

#include <csignal>
#include <thread>

namespace ovz::detail {

result<std::vector<pid_t>> read_procs(const std::string& dir) {
  auto text = read_file(dir + "/cgroup.procs");
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::vector<pid_t>{};
    return text.error();
  }
  std::vector<pid_t> pids;
  std::size_t pos = 0;
  const std::string& s = *text;
  while (pos < s.size()) {
    auto end = s.find('\n', pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) pids.push_back(static_cast<pid_t>(std::stol(s.substr(pos, end - pos))));
    pos = end + 1;
  }
  return pids;
}

result<void> remove_dir(const std::string& dir) {
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return success();
    if (errno != EBUSY || attempt == 2000) return sys_fail(errno, "rmdir {}", dir);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

result<void> kill_until_empty(const std::string& dir, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    BOOST_OUTCOME_TRY(pids, read_procs(dir));
    if (pids.empty()) return success();
    if (std::chrono::steady_clock::now() > deadline)
      return fail(errc::timed_out, "{} still has {} processes after SIGKILL (first: PID {})", dir,
                  pids.size(), pids.front());
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace ovz::detail
