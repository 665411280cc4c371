#define _XOPEN_SOURCE 700 /* nftw */
#include "tap.h"

#include <ovz.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int start_as_root(char *root) {
  if (geteuid() != 0) {
    printf("SKIPPED: needs root\n");
    return 77;
  }
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  return 0;
}

static int checks;
static int failures;

int check(int ok, const char *what) {
  ++checks;
  printf("%s %d - %s\n", ok ? "ok" : "not ok", checks, what);
  if (!ok) {
    const ovz_error *e = ovz_error_last();
    printf("#   last error: code %d, errno %d: %s\n", e->code, e->sys_errno, e->message);
    ++failures;
  }
  return ok;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int finish(const char *root) {
  nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  printf("1..%d\n", checks);
  return failures ? 1 : 0;
}
