// ovzctl: a vzctl-compatible command line over libovz's public API.

#include "ovzctl/args.hpp"
#include "ovzctl/commands.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  // A command is over in milliseconds and ovzctl is small: forking it makes a VE's first
  // child for less than starting libovz's spawn helper (a program start) does.
  ::setenv("OVZ_SPAWN_HELPER", "none", 0);
  try {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    auto cmd = ovzctl::parse(args);
    if (!cmd) {
      fmt::print(stderr,
                 "ovzctl: {}\nUsage: ovzctl [--root DIR] COMMAND [ARGS]; "
                 "'ovzctl --help' lists the commands.\n",
                 cmd.error().message());
      return ovzctl::exit_usage;
    }
    return ovzctl::run(cmd.value());
  } catch (const std::exception& e) {
    // Out of memory or an unwritable stdout: still a message and a failure status, never an
    // abort.
    std::fprintf(stderr, "ovzctl: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "ovzctl: unexpected error\n");
  }
  return ovzctl::exit_failure;
}
