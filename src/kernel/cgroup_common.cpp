#include "kernel/cgroup_common.hpp"

#include "kernel/files.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <thread>

namespace ovz::detail {
namespace {

// A kernel file that does not read as the kernel documents it: EPROTO, the file named and
// a short, printable excerpt of what it held.
error malformed(const std::string& file, std::string_view text, std::string_view expected) {
  return sys_fail(EPROTO, "{} holds \"{}\" where {} was expected", file, excerpt(text),
                  expected);
}

}  // namespace

result<std::vector<pid_t>> read_procs(const std::string& dir) {
  const std::string file = dir + "/cgroup.procs";
  auto text = read_file(file);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::vector<pid_t>{};
    return text.error();
  }
  std::vector<pid_t> pids;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    if (line.empty()) continue;
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec != std::errc() || end != line.data() + line.size() || pid <= 0)
      return malformed(file, line, "a PID");
    pids.push_back(pid);
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

result<void> signal_procs(const std::string& dir) {
  BOOST_OUTCOME_TRY(pids, read_procs(dir));
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  return success();
}

}  // namespace ovz::detail

namespace ovz::detail {
namespace {

std::optional<std::uint64_t> to_number(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text == "max") return UINT64_MAX;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

result<std::optional<std::uint64_t>> read_number(const std::string& file) {
  auto text = read_file(file);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::optional<std::uint64_t>{};
    return text.error();
  }
  auto v = to_number(*text);
  if (!v) return malformed(file, *text, "a number");
  return v;
}

result<std::optional<std::uint64_t>> read_keyed(const std::string& file, std::string_view key) {
  auto text = read_file(file);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::optional<std::uint64_t>{};
    return text.error();
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      auto v = to_number(line.substr(key.size() + 1));
      if (!v) return malformed(file, line, "a number");
      return v;
    }
  }
  return std::optional<std::uint64_t>{};
}

result<void> write_number(const std::string& file, std::optional<std::uint64_t> value,
                          std::string_view none) {
  return write_file(file, value ? std::to_string(*value) : std::string(none));
}

cgroup_counter make_counter(std::optional<std::uint64_t> held, std::optional<std::uint64_t> peak,
                            std::optional<std::uint64_t> fails, bool enforced) {
  cgroup_counter c;
  c.measured = held.has_value();
  c.held = held.value_or(0);
  c.peak = std::max(peak.value_or(c.held), c.held);
  c.failcnt = fails.value_or(0);
  c.enforced = enforced;
  return c;
}

bool has_file(const std::string& file) { return ::access(file.c_str(), F_OK) == 0; }

}  // namespace ovz::detail
