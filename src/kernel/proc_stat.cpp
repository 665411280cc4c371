#include "kernel/proc_stat.hpp"

#include "kernel/files.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <charconv>
#include <cstring>
#include <sstream>
#include <vector>

namespace ovz::detail {

std::optional<proc_stat> read_proc_stat(pid_t pid) {
  auto text = read_file(fmt::format("/proc/{}/stat", pid));
  if (!text) return std::nullopt;
  // The name is in parentheses and may itself hold spaces and parentheses: it ends at the
  // last ')'.
  auto open = text->find('(');
  auto close = text->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return std::nullopt;
  std::vector<std::string> f;  // field 3 (state) onwards
  std::istringstream in(text->substr(close + 1));
  for (std::string s; in >> s;) f.push_back(s);
  // exit_code is field 52 (Linux 3.5 and later).
  if (f.size() < 50) return std::nullopt;
  proc_stat s;
  s.comm = text->substr(open + 1, close - open - 1);
  s.state = f[0].empty() ? '?' : f[0][0];
  auto number = [](const std::string& t, auto& out) {
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && end == t.data() + t.size();
  };
  unsigned long flags = 0;
  if (!number(f[1], s.ppid) || !number(f[6], flags) || !number(f[19], s.start_ticks) ||
      !number(f[49], s.exit_code))
    return std::nullopt;
  constexpr unsigned long pf_exiting = 0x4;  // include/linux/sched.h; stable since 2.6
  s.exiting = (flags & pf_exiting) != 0;
  return s;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    // sigabbrev_np, unlike strsignal, is thread-safe.
    const char* abbrev = ::sigabbrev_np(WTERMSIG(status));
    return fmt::format("killed by signal {} (SIG{})", WTERMSIG(status), abbrev ? abbrev : "?");
  }
  return fmt::format("ended with wait status {:#x}", status);
}

}  // namespace ovz::detail
