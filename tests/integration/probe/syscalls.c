/* System calls and kernel knobs that act on the host, not on the VE. */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_USER_KEYRING (-4)

static int bpf_socket_filter(void) {
  struct bpf_insn prog[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (unsigned long)prog;
  attr.insn_cnt = 2;
  attr.license = (unsigned long)"GPL";
  return syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr) >= 0 ? 0 : -1;
}

/* The least a process could ask of perf: its own user-space CPU clock. */
static int perf_self(void) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0) >= 0 ? 0 : -1;
}

/* The 32-bit entry point has its own system call numbers: a filter written for x86_64's
 * alone would let keyctl (i386 number 288) through. Tried in a child, as a filter may kill
 * the caller for a foreign architecture. */
static void keyctl_i386(void) {
#if defined(__x86_64__)
  pid_t pid = fork();
  if (pid == 0) {
    long rc;
    __asm__ volatile("int $0x80"
                     : "=a"(rc)
                     : "a"(288L), "b"(KEYCTL_GET_KEYRING_ID), "c"(KEY_SPEC_USER_KEYRING), "d"(0)
                     : "memory");
    _exit(rc >= 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  verdict("keyctl_i386", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "returned");
#endif
}

/* A real-time task outside any RT group runs before every normal task of the host: a VE
 * spinning at SCHED_FIFO would starve the host's CPUs whatever its cpulimit. */
static int sched_fifo(void) {
  struct sched_param rt = {.sched_priority = 1}, normal = {.sched_priority = 0};
  if (sched_setscheduler(0, SCHED_FIFO, &rt) != 0) return -1;
  sched_setscheduler(0, SCHED_OTHER, &normal);
  return 0;
}

void probe_syscalls(void) {
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
  {
    struct { unsigned int bytes; int type; unsigned char handle[128]; } h = {128, 0, {0}};
    int mount_id = 0;
    refused("name_to_handle_at", (int)syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h,
                                              &mount_id, 0));
  }
  refused("swapoff", swapoff("/dev/vda"));
  refused("bpf_prog_load", bpf_socket_filter());
  refused("perf_event_open", perf_self());
  refused("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC) >= 0 ? 0 : -1);
  /* uid 0 in a VE is uid 0 on the host: its user keyring is the host root's. */
  refused("keyctl_user_keyring",
          syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0) >= 0 ? 0 : -1);
  keyctl_i386();
  refused("iopl", iopl(3));
  refused("ioperm", ioperm(0x80, 1, 1));
  refused("acct", acct(NULL));
  {
    /* The kernel log is the host's: every VE's and the host's messages. */
    char log[64];
    refused("syslog_read", klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof log) >= 0 ? 0 : -1);
  }
  refused("sched_fifo", sched_fifo());
  refused("drop_caches", write_value("/proc/sys/vm/drop_caches", "1", 1));
  refused("core_pattern", write_back("/proc/sys/kernel/core_pattern"));
  refused("sys_kernel", write_back("/sys/kernel/rcu_expedited"));
}
