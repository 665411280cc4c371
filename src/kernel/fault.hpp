#pragma once
// Named steps where tests make a crash or a race happen on purpose. Inert unless the
// environment variable OVZ_TEST_FAULT names the step:
//   OVZ_TEST_FAULT=<step>        the process is SIGKILLed there (a crash at that step);
//   OVZ_TEST_FAULT=<step>:pause  the calling thread sleeps 50 ms there (a race window held open);
//   OVZ_TEST_FAULT=<step>:fail   fault_refuses(step) is true there (the kernel refusing it).

#include <string_view>

namespace ovz::detail {

void fault_point(std::string_view step) noexcept;
bool fault_refuses(std::string_view step) noexcept;

}  // namespace ovz::detail
