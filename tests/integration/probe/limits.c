#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Opens pseudo-terminals until `want` are open or the kernel refuses one, then prints
 * "ptys N (why)" and holds them for `hold` seconds so that another VE can try meanwhile. */
void probe_ptys(int want, int hold) {
  int opened = 0;
  const char *why = "all opened";
  for (; opened < want; ++opened) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0) {
      why = strerror(errno);
      break;
    }
  }
  printf("ptys %d (%s)\n", opened, why);
  fflush(stdout);
  if (hold > 0) sleep((unsigned)hold);
}

/* Leaves a process behind that is PID 1 of a PID namespace of its own, nested in the VE's,
 * and returns at once: a VE's users may make such namespaces for sandboxes of their own (as
 * `unshare -p -f` does). */
void probe_nested_init(void) {
  /* Without CAP_SYS_ADMIN in the VE, a user namespace of its own gives the right. */
  if (unshare(CLONE_NEWPID) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) {
    printf("nested refused (%s)\n", strerror(errno));
    exit(1);
  }
  pid_t pid = fork();
  if (pid < 0) {
    printf("nested refused (%s)\n", strerror(errno));
    exit(1);
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    setsid();
    for (;;) pause();
  }
  printf("nested started\n");
}
