/* Holds what a checkpoint must carry besides memory, inside a VE, for the checkpoint tests:
 *
 *   holder hold DIR   takes an exclusive flock on DIR/locked, keeps DIR/gone open after
 *                     removing it, and watches DIR/watched with inotify; writes DIR/ready once
 *                     it holds all three, then for each write closed on DIR/watched appends
 *                     "event N: <what DIR/gone held>" to DIR/events, read through the
 *                     descriptor of the removed file.
 *   holder check DIR  prints "locked" while someone holds DIR/locked, else "free".
 *
 * Static, so that it runs in any VE's root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

static const char kept[] = "kept after removal";

static int path_open(const char *dir, const char *name, int flags) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return open(path, flags | O_CLOEXEC, 0644);
}

static int hold(const char *dir) {
  char path[4096];
  int lock = path_open(dir, "locked", O_RDWR | O_CREAT);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) return perror("flock"), 1;
  int gone = path_open(dir, "gone", O_RDWR | O_CREAT | O_TRUNC);
  if (gone < 0 || write(gone, kept, sizeof kept - 1) != (ssize_t)(sizeof kept - 1))
    return perror("gone"), 1;
  snprintf(path, sizeof path, "%s/gone", dir);
  if (unlink(path) != 0) return perror("unlink"), 1;
  int watched = path_open(dir, "watched", O_RDWR | O_CREAT);
  if (watched < 0) return perror("watched"), 1;
  close(watched);
  int in = inotify_init1(IN_CLOEXEC);
  snprintf(path, sizeof path, "%s/watched", dir);
  if (in < 0 || inotify_add_watch(in, path, IN_CLOSE_WRITE) < 0) return perror("inotify"), 1;
  int ready = path_open(dir, "ready", O_WRONLY | O_CREAT | O_TRUNC);
  if (ready < 0) return perror("ready"), 1;
  close(ready);
  for (int n = 1;; ++n) {
    char ev[sizeof(struct inotify_event) + 256];
    ssize_t got = read(in, ev, sizeof ev);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return perror("read inotify"), 1;
    char held[64] = {0};
    if (pread(gone, held, sizeof held - 1, 0) < 0) return perror("pread"), 1;
    char line[128];
    int len = snprintf(line, sizeof line, "event %d: %s\n", n, held);
    int events = path_open(dir, "events", O_WRONLY | O_CREAT | O_APPEND);
    if (events < 0 || write(events, line, (size_t)len) != len) return perror("events"), 1;
    close(events);
  }
}

static int check(const char *dir) {
  int lock = path_open(dir, "locked", O_RDWR);
  if (lock < 0) return perror("open"), 1;
  if (flock(lock, LOCK_EX | LOCK_NB) == 0) return puts("free"), 0;
  return puts(errno == EWOULDBLOCK ? "locked" : strerror(errno)), 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "hold") == 0) return hold(argv[2]);
  if (argc == 3 && strcmp(argv[1], "check") == 0) return check(argv[2]);
  fprintf(stderr, "usage: holder hold|check DIR\n");
  return 2;
}
