/* Runs inside a VE as its root and tries, one by one, what must never work there. Prints one
 * line per attempt: "<name> ok" when the kernel refused, "<name> ESCAPED" when it allowed it.
 * Static, so that it runs in any VE root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

static int escaped;

static void refused(const char *name, int rc) {
  if (rc == 0) escaped = 1;
  printf("%s %s (%s)\n", name, rc == 0 ? "ESCAPED" : "ok", rc == 0 ? "allowed" : strerror(errno));
}

int main(void) {
  static const char module[] = "\177ELF";
  refused("init_module", (int)syscall(SYS_init_module, module, sizeof module, ""));
  refused("finit_module", (int)syscall(SYS_finit_module, 0, "", 0));
  refused("delete_module", (int)syscall(SYS_delete_module, "loop", O_NONBLOCK));
  refused("kexec_load", (int)syscall(SYS_kexec_load, 0, 0, NULL, 0));
  refused("mount_proc", mount("proc", "/tmp", "proc", 0, NULL));
  refused("mount_tmpfs", mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
  refused("mknod_block", mknod("/tmp/disk", S_IFBLK | 0600, makedev(8, 0)));
  {
    int fd = open("/proc/sysrq-trigger", O_WRONLY);
    refused("sysrq_trigger", fd >= 0 && write(fd, "h", 1) == 1 ? 0 : -1);
  }
  {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    refused("settimeofday", settimeofday(&tv, NULL));
  }
  refused("sethostname", sethostname("escaped", 7));
  {
    struct { unsigned int bytes; int type; unsigned char handle[8]; } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
    int fd = (int)syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY);
    refused("open_by_handle_at", fd >= 0 ? 0 : -1);
  }
  refused("swapoff", swapoff("/dev/vda"));
  return escaped;
}
