// ovz_dirtier: the workload of ovz_migrate_bench, a process that dirties its memory at a steady
// rate and notices when it was stopped. Static, so that it runs in any VE root.
//
//   ovz_dirtier start --mib M --rate R   a dirtier in the background; returns once it runs
//   ovz_dirtier take                     "LARGEST STALLS STALLED" since the last take
//
// The dirtier allocates M MiB, writes every page of it, then ticks every 10 ms for ever: each
// tick it writes one byte into each of the next pages of its buffer (round robin), R MiB per
// second of its running time, and reads CLOCK_MONOTONIC. The largest gap between two ticks is
// how long it was kept from running: a migration or checkpoint freezes it, and CRIU restores
// it on the same host, under the same clock (no time namespace), so the gap spans the freeze.
// A gap of 100 ms or more is a stall: `take` prints the largest gap, the number of stalls and
// their sum, all in µs but the count. An online migration stalls its VE once per pre-dump
// (CRIU freezes it to collect its dirty pages) besides its final freeze.
//
// `take` asks the dirtier for these through files in /tmp: it makes the request file and
// waits until the dirtier, at its next tick, has written them into the answer file, started
// over from 0 and removed the request. An answer is thus also proof that the dirtier runs,
// here and now, and it includes the gap up to the first tick after a restore. Exit code 1
// with a message on stderr when anything fails, or when no dirtier answers within 30 s.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { page = 4096, tick_us = 10000, stall_us = 100000 };

static const char* const request_path = "/tmp/ovz-dirtier.take";
static const char* const answer_path = "/tmp/ovz-dirtier.gap";
static const char* const answer_tmp = "/tmp/ovz-dirtier.gap.new";

static int fail(const char* what) {
  fprintf(stderr, "ovz_dirtier: %s: %s\n", what, strerror(errno));
  return 1;
}

static int64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

// Written beside and renamed over the answer, so that `take` never reads half of one.
static void answer(int64_t largest_us, long stalls, int64_t stalled_us) {
  int fd = open(answer_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char text[64];
  int n = snprintf(text, sizeof text, "%lld %ld %lld\n", (long long)largest_us, stalls,
                   (long long)stalled_us);
  int ok = write(fd, text, (size_t)n) == n;
  close(fd);
  if (ok) rename(answer_tmp, answer_path);
}

static _Noreturn void dirty_for_ever(volatile unsigned char* buf, size_t pages, double rate_mib) {
  const double pages_per_us = rate_mib * (1 << 20) / page / 1e6;
  const struct timespec tick = {0, tick_us * 1000L};
  size_t next = 0;
  double owed = 0;
  int64_t largest = 0, stalled = 0;
  long stalls = 0;
  int64_t before = now_us();
  for (;;) {
    nanosleep(&tick, NULL);
    const int64_t now = now_us();
    const int64_t gap = now - before;
    before = now;
    if (gap > largest) largest = gap;
    if (gap >= stall_us) {
      ++stalls;
      stalled += gap;
    }
    // The rate holds per unit of running time: a tick late under load owes more pages, but
    // a freeze is no running time, and catching up after it (a burst of seconds' worth of
    // writes) would make the next gaps long for the benchmark's own reasons.
    owed += pages_per_us * (double)(gap < 10 * tick_us ? gap : 10 * tick_us);
    for (; owed >= 1; owed -= 1) {
      buf[next * page] += 1;
      next = next + 1 == pages ? 0 : next + 1;
    }
    if (access(request_path, F_OK) == 0) {
      answer(largest, stalls, stalled);
      largest = stalled = 0;
      stalls = 0;
      unlink(request_path);
    }
  }
}

// The dirtier forks, and the parent exits once the child is ready (its memory all written),
// so that the exec that started it returns then and not before. The child leaves the exec's
// session and output pipes, which would otherwise stay open for as long as it runs.
static int start(long mib, double rate_mib) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return fail("pipe2");
  const pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child > 0) {
    close(ready[1]);
    char byte;
    if (read(ready[0], &byte, 1) == 1) return 0;
    fprintf(stderr, "ovz_dirtier: the dirtier ended before it was ready\n");
    return 1;
  }
  close(ready[0]);
  setsid();
  if (chdir("/") != 0) _exit(fail("chdir /"));
  const size_t pages = (size_t)mib * ((1 << 20) / page);
  unsigned char* buf =
      mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) _exit(fail("mmap"));
  // Small pages only: with transparent huge pages a write of one byte would make CRIU's
  // dirty tracking copy 2 MiB, and the rate would not be the rate.
  madvise(buf, pages * page, MADV_NOHUGEPAGE);
  // Real pages, not the shared zero page, which CRIU would not write.
  for (size_t i = 0; i < pages; ++i) buf[i * page] = 1;
  unlink(request_path);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) _exit(fail("open /dev/null"));
  for (int fd = 0; fd <= 2; ++fd) dup2(null, fd);
  close(null);
  const char byte = 1;
  if (write(ready[1], &byte, 1) != 1) _exit(1);
  close(ready[1]);
  dirty_for_ever(buf, pages, rate_mib);
}

static int take(void) {
  int fd = open(request_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(request_path);
  close(fd);
  const struct timespec poll = {0, 1000000};
  for (const int64_t deadline = now_us() + 30 * 1000000LL; now_us() < deadline;) {
    nanosleep(&poll, NULL);
    if (access(request_path, F_OK) == 0) continue;
    char text[64] = {0};
    fd = open(answer_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(answer_path);
    const ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return fail(answer_path);
    fputs(text, stdout);
    return 0;
  }
  unlink(request_path);
  fprintf(stderr, "ovz_dirtier: no dirtier answered within 30 s\n");
  return 1;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "take") == 0) return take();
  long mib = 0;
  double rate = -1;
  for (int i = 2; argc >= 2 && strcmp(argv[1], "start") == 0 && i + 1 < argc; i += 2) {
    char* end = NULL;
    if (strcmp(argv[i], "--mib") == 0) mib = strtol(argv[i + 1], &end, 10);
    else if (strcmp(argv[i], "--rate") == 0) rate = strtod(argv[i + 1], &end);
    if (!end || *end != '\0') mib = 0;
  }
  if (argc != 6 || mib < 1 || rate < 0) {
    fprintf(stderr, "usage: ovz_dirtier start --mib M --rate R | take\n");
    return 2;
  }
  return start(mib, rate);
}
