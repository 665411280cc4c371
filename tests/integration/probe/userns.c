/* A user namespace made inside the VE gives full capabilities over what it owns, and nothing
 * over what it does not: the VE's mounts, devices and the masks over /proc. */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* In the new namespaces, as their root. Each line is an attempt on what the VE owns. */
static void inside(void) {
  /* Its own mount namespace copy is its to change: this must not reach the VE's /tmp. */
  printf("userns_mount_tmpfs %s\n", mount("tmpfs", "/tmp", "tmpfs", 0, NULL) == 0 ? "done" : "refused");
  refused("userns_mknod_block", mknod("/tmp/disk", S_IFBLK | 0600, makedev(8, 0)));
  refused("userns_remount_sys_rw", mount(NULL, "/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
  refused("userns_remount_proc_sys_rw",
          mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
  /* Unmounting a mask, or the read-only /proc/sys over the writable one, would reveal what
   * they cover. */
  const char *masks[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms"};
  for (size_t i = 0; i < sizeof masks / sizeof *masks; ++i) {
    if (access(masks[i], F_OK) != 0) continue;
    refused("userns_unmask_proc", umount2(masks[i], MNT_DETACH));
    break;
  }
  refused("userns_unmount_proc_sys", umount2("/proc/sys", MNT_DETACH));
  refused("userns_core_pattern", write_back("/proc/sys/kernel/core_pattern"));
  refused("userns_sethostname", sethostname("escaped", 7));  /* the VE's UTS namespace */
  /* A fresh proc would show what the VE's masks hide: the kernel refuses it while a
   * mask is in place. */
  if (unshare(CLONE_NEWPID) == 0) {
    pid_t pid = fork();
    if (pid == 0) {
      mkdir("/tmp/proc", 0555);
      _exit(mount("proc", "/tmp/proc", "proc", 0, NULL) == 0 ? 0 : errno);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int err = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
    verdict("userns_fresh_proc", err == 0, err ? strerror(err) : "mounted");
  }
  fflush(stdout);
}

void probe_userns(void) {
  int go[2], made[2];
  if (pipe(go) != 0 || pipe(made) != 0) return;
  pid_t child = fork();
  if (child == 0) {
    char c;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      printf("userns_unshare refused (%s)\n", strerror(errno));
      _exit(0);
    }
    if (write(made[1], "m", 1) != 1 || read(go[0], &c, 1) != 1) _exit(1);
    inside();
    _exit(0);
  }
  char c, path[64];
  if (read(made[0], &c, 1) == 1) {
    /* As the VE's root (CAP_SETUID, CAP_SETGID over the VE's user namespace), map root. */
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
    int ok = write_value(path, "0 0 1\n", 6) == 0;
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
    ok = ok && write_value(path, "0 0 1\n", 6) == 0;
    printf("userns_map %s\n", ok ? "done" : strerror(errno));
    fflush(stdout);
    if (write(go[1], "g", 1) != 1) return;
  }
  waitpid(child, NULL, 0);
  struct statfs fs;
  int leaked = statfs("/tmp", &fs) == 0 && fs.f_type == TMPFS_MAGIC;
  verdict("userns_mount_contained", leaked, leaked ? "tmpfs on the VE's /tmp" : "VE's /tmp unchanged");
}
