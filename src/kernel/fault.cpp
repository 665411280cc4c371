#include "kernel/fault.hpp"

#include <csignal>
#include <cstdlib>
#include <ctime>

namespace ovz::detail {

namespace {

// True when OVZ_TEST_FAULT is `step` followed by `mode` ("" for the bare step).
bool wanted(std::string_view step, std::string_view mode) noexcept {
  const char* env = std::getenv("OVZ_TEST_FAULT");
  if (!env) return false;
  const std::string_view w(env);
  return w.size() == step.size() + mode.size() && w.substr(0, step.size()) == step &&
         w.substr(step.size()) == mode;
}

}  // namespace

void fault_point(std::string_view step) noexcept {
  if (wanted(step, "")) {
    ::raise(SIGKILL);
  } else if (wanted(step, ":pause")) {
    timespec pause{0, 50'000'000};
    while (::nanosleep(&pause, &pause) != 0) {
    }
  }
}

bool fault_refuses(std::string_view step) noexcept { return wanted(step, ":fail"); }

}  // namespace ovz::detail
