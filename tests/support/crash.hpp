#pragma once
// Crashes on purpose at a named step of the library (kernel/fault.hpp).

#include <functional>
#include <string>

namespace ovz::test {

/// Runs `op` in a child process with OVZ_TEST_FAULT=`step`; true when the child was SIGKILLed
/// there, false when `op` ran to its end (the step was never reached).
bool killed_at(const std::string& step, const std::function<void()>& op);

/// Sets OVZ_TEST_FAULT for this process while in scope: "<step>:pause" holds a race window
/// open in every thread that reaches the step.
class fault_scope {
 public:
  explicit fault_scope(const std::string& value);
  ~fault_scope();
  fault_scope(const fault_scope&) = delete;
  fault_scope& operator=(const fault_scope&) = delete;
};

}  // namespace ovz::test
