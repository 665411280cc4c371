/* Processes that are not the VE's: the host's, another VE's. Each is known by its host PID,
 * which inside the VE's PID namespace must name nothing (or nothing that lets us in). */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The probe is static and not position independent: this buffer has the same address in
 * every copy, so an attacker copy knows where a holding copy keeps its secret. */
static char secret[32] = "nothing held";
static const char held[] = "ovz-held-secret";

void probe_hold(void) {
  memcpy(secret, held, sizeof held);
  for (;;) pause();
}

static void attack(const char *label, pid_t pid) {
  char name[64];
  snprintf(name, sizeof name, "%s_ptrace", label);
  int rc = (int)ptrace(PTRACE_ATTACH, pid, 0, 0);
  refused(name, rc);
  if (rc == 0) ptrace(PTRACE_DETACH, pid, 0, 0);

  snprintf(name, sizeof name, "%s_pidfd_open", label);
  refused(name, syscall(SYS_pidfd_open, pid, 0) >= 0 ? 0 : -1);

  char got[sizeof secret] = {0};
  struct iovec local = {got, sizeof got}, remote = {secret, sizeof secret};
  snprintf(name, sizeof name, "%s_process_vm_readv", label);
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  int read_secret = n > 0 && strcmp(got, held) == 0;
  verdict(name, read_secret, read_secret ? "read the secret" : n > 0 ? "read something else"
                                                                     : strerror(errno));

  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
  snprintf(name, sizeof name, "%s_proc_mem", label);
  int fd = open(path, O_RDONLY);
  refused(name, fd >= 0 && pread(fd, got, sizeof got, (off_t)(unsigned long)secret) > 0 &&
                        strcmp(got, held) == 0 ? 0 : -1);
  snprintf(path, sizeof path, "/proc/%d/root/", (int)pid);
  snprintf(name, sizeof name, "%s_proc_root", label);
  refused(name, access(path, F_OK));

  /* Last, as it would end the target: the test sees it dead if this escapes. */
  snprintf(name, sizeof name, "%s_kill", label);
  refused(name, kill(pid, SIGKILL));
}

/* The VE is not crippled: a debugger attaches to a child of its own and reads its memory. */
static void trace_own_child(void) {
  int ready[2];
  if (pipe(ready) != 0) return;
  pid_t child = fork();
  if (child == 0) {
    memcpy(secret, held, sizeof held);
    if (write(ready[1], "r", 1) != 1) _exit(1);
    for (;;) pause();
  }
  char c;
  int works = read(ready[0], &c, 1) == 1 && ptrace(PTRACE_ATTACH, child, 0, 0) == 0 &&
              waitpid(child, NULL, 0) == child;
  if (works) {
    char got[sizeof secret];
    for (size_t i = 0; i < sizeof got; i += sizeof(long)) {
      long word = ptrace(PTRACE_PEEKDATA, child, secret + i, 0);
      memcpy(got + i, &word, sizeof word);
    }
    works = strcmp(got, held) == 0;
  }
  int err = errno;
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  printf("ptrace_own_child %s (%s)\n", works ? "works" : "BROKEN", works ? "read" : strerror(err));
}

/* Arguments: LABEL=PID, e.g. host=12345 ve=23456. */
void probe_processes(int argc, char **argv) {
  for (int i = 0; i < argc; ++i) {
    char *eq = strchr(argv[i], '=');
    if (!eq) continue;
    *eq = '\0';
    attack(argv[i], (pid_t)atoi(eq + 1));
  }
  trace_own_child();
}
