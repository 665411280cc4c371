#include "support/crash.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace ovz::test {

bool killed_at(const std::string& step, const std::function<void()>& op) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::setenv("OVZ_TEST_FAULT", step.c_str(), 1);
    op();
    std::_Exit(0);
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) return false;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

fault_scope::fault_scope(const std::string& value) { ::setenv("OVZ_TEST_FAULT", value.c_str(), 1); }

fault_scope::~fault_scope() { ::unsetenv("OVZ_TEST_FAULT"); }

}  // namespace ovz::test
