#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static int escaped;

void refused(const char *name, int rc) {
  verdict(name, rc == 0, rc == 0 ? "allowed" : strerror(errno));
}

void verdict(const char *name, int escaped_now, const char *why) {
  if (escaped_now) escaped = 1;
  printf("%s %s (%s)\n", name, escaped_now ? "ESCAPED" : "ok", why);
  fflush(stdout);
}

int probe_escaped(void) { return escaped; }

int write_value(const char *path, const char *value, size_t size) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  int rc = write(fd, value, size) == (ssize_t)size ? 0 : -1;
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int write_back(const char *path) {
  char value[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, value, sizeof value);
  close(fd);
  return n > 0 ? write_value(path, value, (size_t)n) : -1;
}

/* escape_probe                 syscalls and kernel knobs
 * escape_probe procs LABEL=PID...  processes that are not the VE's
 * escape_probe hold            holds a secret in memory until killed
 * escape_probe root MARKER     chroot, "..", /proc/PID/root, open directories, cgroups
 * escape_probe userns          what a user namespace made inside gives
 * escape_probe ptys N [SECS]   opens up to N pseudo-terminals, holds them SECS seconds
 * escape_probe nested          leaves PID 1 of a nested PID namespace running
 * escape_probe names HOST DOMAIN  sets the host and domain names, prints what uname says
 * escape_probe forkbomb [TAG]  forks for ever, as do all its children, whether fork fails
 *                              or not: the bomb never dies out on its own (TAG only marks
 *                              its command line) */
int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "syscalls";
  if (strcmp(mode, "syscalls") == 0) {
    probe_syscalls();
  } else if (strcmp(mode, "procs") == 0) {
    probe_processes(argc - 2, argv + 2);
  } else if (strcmp(mode, "hold") == 0) {
    probe_hold();
  } else if (strcmp(mode, "root") == 0 && argc > 2) {
    probe_root(argv[2]);
  } else if (strcmp(mode, "userns") == 0) {
    probe_userns();
  } else if (strcmp(mode, "ptys") == 0 && argc > 2) {
    probe_ptys(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 0);
  } else if (strcmp(mode, "nested") == 0) {
    probe_nested_init();
  } else if (strcmp(mode, "names") == 0 && argc > 3) {
    int host = sethostname(argv[2], strlen(argv[2]));
    int domain = setdomainname(argv[3], strlen(argv[3]));
    struct utsname u;
    uname(&u);
    printf("%s %s %s %s\n", u.nodename, u.domainname, host ? strerror(errno) : "ok",
           domain ? strerror(errno) : "ok");
    return 0;
  } else if (strcmp(mode, "forkbomb") == 0) {
    for (;;) fork();
  } else {
    fprintf(stderr, "usage: %s [syscalls | procs LABEL=PID... | hold | root MARKER | userns |"
                    " ptys N [SECS] | nested | names HOST DOMAIN | forkbomb [TAG]]\n", argv[0]);
    return 2;
  }
  return probe_escaped();
}
