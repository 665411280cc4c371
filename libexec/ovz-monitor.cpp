// ovz-monitor: the per-VE monitor that libovz executes as the parent of a VE's init (see
// src/ve/monitor.hpp). Not meant to be run by hand.

#include "ve/monitor.hpp"

int main(int argc, char** argv) { return ovz::detail::run_monitor(argc, argv); }
