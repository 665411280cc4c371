// ovz_density_bench --template: N VEs of a real distribution (a Debian 12 template with
// init, rsyslog, cron, sshd and apache2) running at once, each started and waited for until
// it serves, then what each costs: its memory cgroup's charge (user, cache, kernel), the
// host's free memory, and the kernel lines of /proc/meminfo.

#pragma once

#include "bench_support.hpp"

namespace ovz_bench {

struct distro_options {
  long ves = 200;
  fs::path tarball;
  /// The template tree tuned by benchmarks/debian-density-tune after the import.
  bool tune = false;
  fs::path root;  // empty: a fresh directory under /tmp
};

/// The whole run, report included; returns the program's exit status. Call it while the
/// program has one thread: it first moves into a network namespace of its own.
int run_distro_density(const distro_options& o);

}  // namespace ovz_bench
