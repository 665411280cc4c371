// ovz_disk_writer: the write workloads of ovz_disk_bench, one run each. Static, so that the
// very same program runs on the host and inside any VE root, and timed by itself, so that
// what it took to start it (an exec into a VE, a posix_spawn on the host) stays out.
//
//   ovz_disk_writer seq DIR MIB      one file of MIB MiB in 1 MiB writes, then fsync
//   ovz_disk_writer files DIR COUNT  COUNT files of 4 KiB each, then syncfs
//
// It prints the milliseconds the writes and their flush took, nothing else. The sequential
// file is removed afterwards (untimed, and flushed too, so the next run starts from the same
// free space); the small files stay, each run's in a new directory, ovz-disk-bench.files.N.
// Exit code 1 with a message on stderr naming the call and path when anything fails.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { chunk = 1 << 20, small = 4096 };

static int fail(const char* call, const char* path) {
  fprintf(stderr, "ovz_disk_writer: %s %s: %s\n", call, path, strerror(errno));
  return 1;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

// Not zeros: a filesystem or a thin-provisioned disk below it may treat those specially.
static void fill(char* buf, size_t n) {
  for (size_t i = 0; i < n; ++i) buf[i] = (char)(i * 131 + 7);
}

static int write_all(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

static int sequential(int dir, const char* where, long mib) {
  static char buf[chunk];
  fill(buf, sizeof buf);
  const char* name = "ovz-disk-bench.seq";
  const double t0 = now_ms();
  int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("open", where);
  for (long i = 0; i < mib; ++i) {
    if (write_all(fd, buf, sizeof buf) != 0) return fail("write", where);
  }
  if (fsync(fd) != 0) return fail("fsync", where);
  const double ms = now_ms() - t0;
  close(fd);
  if (unlinkat(dir, name, 0) != 0) return fail("unlink", where);
  if (syncfs(dir) != 0) return fail("syncfs", where);
  printf("%.3f\n", ms);
  return 0;
}

// The files stay: freed inodes reused at once are what an ext4 without a journal avoids (it
// skips inodes deleted in the last seconds, reading their inode table to tell), so removing
// them between runs would slow the next run down for a reason of the benchmark's own making.
static int many_files(int dir, const char* where, long count) {
  char buf[small];
  fill(buf, sizeof buf);
  char sub[32];
  const double t0 = now_ms();
  for (int n = 0;; ++n) {
    snprintf(sub, sizeof sub, "ovz-disk-bench.files.%d", n);
    if (mkdirat(dir, sub, 0755) == 0) break;
    if (errno != EEXIST) return fail("mkdir", where);
  }
  int d = openat(dir, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return fail("open", where);
  char name[32];
  for (long i = 0; i < count; ++i) {
    snprintf(name, sizeof name, "f%ld", i);
    int fd = openat(d, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, buf, sizeof buf) != 0) return fail("create and write", where);
    close(fd);
  }
  if (syncfs(d) != 0) return fail("syncfs", where);
  printf("%.3f\n", now_ms() - t0);
  return 0;
}

int main(int argc, char** argv) {
  char* end = NULL;
  const long n = argc == 4 ? strtol(argv[3], &end, 10) : 0;
  const int seq = argc == 4 && strcmp(argv[1], "seq") == 0;
  const int files = argc == 4 && strcmp(argv[1], "files") == 0;
  if ((!seq && !files) || !end || *end != '\0' || n < 1) {
    fprintf(stderr, "usage: ovz_disk_writer seq DIR MIB | files DIR COUNT\n");
    return 2;
  }
  int dir = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return fail("open", argv[2]);
  return seq ? sequential(dir, argv[2], n) : many_files(dir, argv[2], n);
}
