#include "support/proc_info.hpp"

#include "support/text_file.hpp"

#include <algorithm>
#include <sstream>

namespace ovz::test {

pid_t parent_of(pid_t pid) {
  auto line = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto paren = line.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream in(line.substr(paren + 1));
  std::string state;
  pid_t ppid = 0;
  in >> state >> ppid;
  return ppid;
}

std::string comm_of(pid_t pid) {
  auto c = read_text("/proc/" + std::to_string(pid) + "/comm");
  if (!c.empty() && c.back() == '\n') c.pop_back();
  return c;
}

std::string command_line_of(pid_t pid) {
  auto c = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(c.begin(), c.end(), '\0', ' ');
  while (!c.empty() && c.back() == ' ') c.pop_back();
  return c;
}

}  // namespace ovz::test
