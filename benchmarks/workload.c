// ovz_workload: the workloads of ovz_overhead_bench, run on the host and in a VE alike. Static,
// so that the same program runs in any VE root.
//
//   ovz_workload cpu N        N rounds of integer arithmetic (a xorshift generator)
//   ovz_workload syscalls N   N getppid() system calls, the cheapest one that always enters
//                             the kernel (no vDSO, no cache)
//
// Prints the loop's own time in nanoseconds (CLOCK_MONOTONIC), so that starting the program,
// in a VE or not, is not part of the number.

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: ovz_workload cpu|syscalls N\n");
    return 2;
  }
  const long n = strtol(argv[2], NULL, 10);
  if (n <= 0) {
    fprintf(stderr, "ovz_workload: N must be a positive number\n");
    return 2;
  }
  uint64_t x = 88172645463325252ull;
  const int64_t t0 = now_ns();
  if (strcmp(argv[1], "cpu") == 0) {
    for (long i = 0; i < n; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
  } else if (strcmp(argv[1], "syscalls") == 0) {
    for (long i = 0; i < n; ++i) x += (uint64_t)syscall(SYS_getppid);
  } else {
    fprintf(stderr, "ovz_workload: unknown workload %s\n", argv[1]);
    return 2;
  }
  const int64_t t1 = now_ns();
  // x printed to stderr only when it is 0 (never): the loop's result is used, so it stays.
  if (x == 0) fprintf(stderr, "%llu\n", (unsigned long long)x);
  printf("%lld\n", (long long)(t1 - t0));
  return 0;
}
