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

/* Whether we are root of a user namespace of our own (a --userns VE), where the kernel judges
 * a mount or an unmount by what the namespace owns: the VE's own mounts are its to change. */
static int own_user_namespace(void) {
  unsigned inside = 0, outside = 0, count = 0;
  FILE *f = fopen("/proc/self/uid_map", "r");
  if (!f) return 0;
  int n = fscanf(f, "%u %u %u", &inside, &outside, &count);
  fclose(f);
  return n == 3 && !(inside == 0 && outside == 0 && count == 4294967295u);
}

/* A change to the VE's own mounts: refused without a user namespace (the VE's monitor does
 * not do it), its own business with one. */
static void own_mounts_only(const char *name, int rc) {
  int own = own_user_namespace();
  verdict(name, rc == 0 && !own, rc == 0 ? "allowed in its own user namespace" : strerror(errno));
}

/* A new proc or sysfs that root of a VE may mount (its monitor mounts a copy of the VE's own,
 * or the kernel one in its user namespace) must still keep the host's knobs from it. */
static void mount_contained(const char *name, const char *type, const char *knob) {
  if (mount(type, "/tmp", type, 0, NULL) != 0) {
    verdict(name, 0, strerror(errno));
    return;
  }
  char path[64];
  snprintf(path, sizeof path, "/tmp/%s", knob);
  int escaped = write_back(path) == 0;
  if (strcmp(type, "proc") == 0) escaped |= write_value("/tmp/sysrq-trigger", "h", 1) == 0;
  umount2("/tmp", MNT_DETACH);
  verdict(name, escaped, escaped ? "a host knob written through it" : "mounted, host knobs kept");
}

void probe_syscalls(void) {
  static const char module[] = "\177ELF";
  refused("init_module", (int)syscall(SYS_init_module, module, sizeof module, ""));
  refused("finit_module", (int)syscall(SYS_finit_module, 0, "", 0));
  refused("delete_module", (int)syscall(SYS_delete_module, "loop", O_NONBLOCK));
  refused("kexec_load", (int)syscall(SYS_kexec_load, 0, 0, NULL, 0));
  mount_contained("mount_proc", "proc", "sys/kernel/core_pattern");
  mount_contained("mount_sysfs", "sysfs", "kernel/rcu_expedited");
  {
    /* Root of a VE mounts tmpfs where it likes: its own memory, on its own tree. */
    int rc = mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    verdict("mount_tmpfs", 0, rc == 0 ? "the VE's own" : strerror(errno));
    if (rc == 0) umount2("/tmp", MNT_DETACH);
  }
  refused("mount_ext4", mount("/dev/null", "/tmp", "ext4", MS_RDONLY, NULL));
  {
    int rc = mount("/", "/tmp", NULL, MS_BIND | MS_REC, NULL);
    own_mounts_only("mount_bind", rc);
    if (rc == 0) umount2("/tmp", MNT_DETACH);
  }
  {
    /* Unmounting a mask would reveal what it covers. */
    const char *masks[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms"};
    for (size_t i = 0; i < sizeof masks / sizeof *masks; ++i) {
      if (access(masks[i], F_OK) != 0) continue;
      own_mounts_only("unmask_proc", umount2(masks[i], MNT_DETACH));
      break;
    }
  }
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
  {
    /* The VE's own UTS namespace: the test checks the host's name is unchanged. */
    int rc = sethostname("escaped", 7);
    verdict("sethostname", 0, rc == 0 ? "the VE's own" : strerror(errno));
  }
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
  /* Writable, /proc/sys would still refuse the host's knobs in a user namespace below. */
  own_mounts_only("remount_proc_sys_rw", mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
  refused("drop_caches", write_value("/proc/sys/vm/drop_caches", "1", 1));
  refused("core_pattern", write_back("/proc/sys/kernel/core_pattern"));
  refused("sys_kernel", write_back("/sys/kernel/rcu_expedited"));
}
