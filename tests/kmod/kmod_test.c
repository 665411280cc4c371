// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_test: the ovz kernel module on its own, in the lab VM (as root, on
 * Debian's 6.1): tests/lab/run -- build/tests/ovz_kmod_test
 *
 * Loads $OVZ_KMOD_DIR/ovz.ko, makes a VE by hand (a process in a new PID
 * namespace and a cgroup2 directory with memory.max = 256M), registers it
 * through /dev/ovz and checks the ABI, the snapshot, poll(), every ovzproc
 * file from inside the VE and from the host, that rmmod is refused while
 * the module is in use, and that 1000 register/read/unregister cycles leak
 * nothing. Prints PASS/FAIL per check; exit 0 when all pass, 1 otherwise,
 * 77 when $OVZ_KMOD_DIR is unset (not in the lab).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ovz_kmod.h"

#define CG "/sys/fs/cgroup/ovz-kmod-test"
#define MNT "/tmp/ovzproc"
#define MiB (1024ULL * 1024)

static int failures;
static int nsfd = -1;		/* the VE's PID namespace */
static pid_t ve_init = -1;	/* its init, as the host sees it */
static int ve_pidfd = -1;
static double ve_started;	/* CLOCK_BOOTTIME when it was forked */

static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s", ok ? "PASS" : "FAIL", name);
	if (fmt && *fmt) {
		printf(" (");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* ioctl()'s errno (0 on success): checks expect one. */
static int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

static void expect_errno(int got, int want, const char *name)
{
	check(got == want, name, "errno %d (%s), want %d (%s)", got,
	      got ? strerror(got) : "success", want, strerror(want));
}

static double boottime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static ssize_t read_fd_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - len - 1)) > 0)
		len += n;
	buf[len] = '\0';
	return len;
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	n = read_fd_all(fd, buf, size);
	close(fd);
	return n;
}

static long allocations(void)
{
	char buf[64];

	if (read_file("/sys/module/ovz/parameters/allocations", buf,
		      sizeof(buf)) <= 0)
		return -1;
	return atol(buf);
}

static long field_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? atol(p + strlen(key)) : -1;
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	const char *p = text;
	size_t len = strlen(prefix);

	while (p && *p) {
		if (!strncmp(p, prefix, len))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* --- the module ------------------------------------------------------------------------ */

static int insmod(void)
{
	char path[4096];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/ovz.ko", getenv("OVZ_KMOD_DIR"));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	rc = syscall(SYS_finit_module, fd, "", 0) < 0 ? errno : 0;
	close(fd);
	return rc;
}

/*
 * delete_module(2) of a module in use: 6.1 answers EWOULDBLOCK (kmod's
 * rmmod looks at the refcount first and prints "is in use"); EBUSY would
 * come from a module still loading or unloading.
 */
static void expect_in_use(const char *name)
{
	int err = syscall(SYS_delete_module, "ovz", O_NONBLOCK) < 0 ? errno : 0;

	check(err == EWOULDBLOCK || err == EBUSY, name, "errno %d (%s)", err,
	      err ? strerror(err) : "success: unloaded while in use");
}

static int rmmod(void)
{
	return syscall(SYS_delete_module, "ovz", O_NONBLOCK) < 0 ? errno : 0;
}

static int open_dev(void)
{
	int i, fd = -1;

	/* devtmpfs makes the node as misc_register() returns; a moment at most */
	for (i = 0; i < 50 && fd < 0; i++) {
		fd = open(OVZ_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			usleep(20000);
	}
	return fd;
}

/* --- a VE made by hand ------------------------------------------------------------------- */

static void setup_cgroup(void)
{
	const char *ctl[] = { "+memory", "+pids", "+cpu", "+cpuset" };
	size_t i;

	for (i = 0; i < 4; i++)
		write_file("/sys/fs/cgroup/cgroup.subtree_control", ctl[i]);
	mkdir(CG, 0755);
	check(write_file(CG "/memory.max", "268435456") == 0, "cgroup memory.max = 256M",
	      "%s", strerror(errno));
	write_file(CG "/memory.swap.max", "0");
}

/* Forks the VE's init: pid 1 of a new PID namespace, in the cgroup. */
static void start_ve(void)
{
	int p[2];
	pid_t a;
	char path[64];

	if (pipe(p))
		exit(1);
	ve_started = boottime();
	a = fork();
	if (a == 0) {
		pid_t b;

		write_file(CG "/cgroup.procs", "0");
		if (unshare(CLONE_NEWPID))
			_exit(1);
		b = fork();
		if (b == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (write(p[1], &b, sizeof(b)) != sizeof(b))
			_exit(1);
		waitpid(b, NULL, 0);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &ve_init, sizeof(ve_init)) != sizeof(ve_init)) {
		check(false, "VE init started", "");
		exit(1);
	}
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", ve_init);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ve_pidfd = syscall(SYS_pidfd_open, ve_init, 0);
	check(nsfd >= 0 && ve_pidfd >= 0, "VE init in a new PID namespace", "host pid %d",
	      ve_init);
}

typedef void (*ve_fn)(int out, void *arg);

/*
 * Runs @fn in a new process inside the VE (its PID namespace and cgroup),
 * returning what it wrote to @out.
 */
static ssize_t in_ve(ve_fn fn, void *arg, char *buf, size_t size)
{
	int p[2], status;
	pid_t c;
	ssize_t n;

	if (pipe(p))
		return -1;
	c = fork();
	if (c == 0) {
		pid_t d;

		close(p[0]);
		write_file(CG "/cgroup.procs", "0");
		if (setns(nsfd, CLONE_NEWPID))
			_exit(2);
		d = fork();
		if (d == 0) {
			fn(p[1], arg);
			_exit(0);
		}
		close(p[1]);
		waitpid(d, &status, 0);
		_exit(0);
	}
	close(p[1]);
	n = read_fd_all(p[0], buf, size);
	close(p[0]);
	waitpid(c, &status, 0);
	return n;
}

static void cat_fn(int out, void *arg)
{
	char buf[1 << 16];
	ssize_t n = read_file(arg, buf, sizeof(buf));

	if (n >= 0 && write(out, buf, n) != n)
		_exit(1);
}

static ssize_t ve_cat(const char *file, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), MNT "/%s", file);
	return in_ve(cat_fn, path, buf, size);
}

/* MemFree before and while 100 MiB are touched, from inside the VE. */
static void hog_fn(int out, void *arg)
{
	char a[8192], b[8192], line[128];
	char *mem;

	(void)arg;
	read_file(MNT "/meminfo", a, sizeof(a));
	mem = mmap(NULL, 100 * MiB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		_exit(1);
	read_file(MNT "/meminfo", b, sizeof(b));
	snprintf(line, sizeof(line), "%ld %ld\n", field_kb(a, "MemFree:"),
		 field_kb(b, "MemFree:"));
	if (write(out, line, strlen(line)) < 0)
		_exit(1);
}

/*
 * free -m in the VE with ovzproc's meminfo bound over /proc/meminfo (in a
 * mount namespace of its own), as libovz binds it.
 */
static void free_fn(int out, void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(MNT "/meminfo", "/proc/meminfo", NULL, MS_BIND, NULL))
		_exit(1);
	dup2(out, 1);
	execlp("free", "free", "-m", (char *)NULL);
	_exit(1);
}

/* Touches more than the limit: the cgroup hits memory.max (and OOM-kills us). */
static void overflow_fn(int out, void *arg)
{
	size_t i, size = 400 * MiB;
	char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)out;
	(void)arg;
	if (mem == MAP_FAILED)
		_exit(1);
	for (i = 0; i < size; i += 4096)
		mem[i] = 1;
}

/* Four busy loops in the VE, in a process group the caller kills. */
static pid_t start_spinners(void)
{
	pid_t c = fork();
	int i;

	if (c == 0) {
		setpgid(0, 0);
		write_file(CG "/cgroup.procs", "0");
		if (setns(nsfd, CLONE_NEWPID))
			_exit(2);
		for (i = 0; i < 4; i++) {
			if (fork() == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				for (;;)
					;
			}
		}
		for (;;)
			pause();
	}
	setpgid(c, c);
	return c;
}

static double ve_load1(char *buf, size_t size)
{
	ve_cat("loadavg", buf, size);
	return atof(buf);
}

/* --- the checks ---------------------------------------------------------------------------- */

static void fill_ve(struct ovz_kmod_ve *ve, int pidfd, int cgfd)
{
	int r;

	memset(ve, 0, sizeof(*ve));
	ve->size = sizeof(*ve);
	ve->pidfd = pidfd;
	ve->cgroup_fd = cgfd;
	strcpy(ve->name, "101");
	for (r = 0; r < OVZ_KMOD_UBC_COUNT; r++)
		ve->ubc[r][0] = ve->ubc[r][1] = OVZ_KMOD_UNLIMITED;
	ve->ubc[OVZ_UBC_PHYSPAGES][0] = 0;
	ve->ubc[OVZ_UBC_PHYSPAGES][1] = 65536;
	ve->ubc[OVZ_UBC_NUMPROC][0] = ve->ubc[OVZ_UBC_NUMPROC][1] = 240;
}

static void check_version(int fd)
{
	struct ovz_kmod_version v = { .size = sizeof(v) };
	uint64_t all = OVZ_KMOD_F_SNAPSHOT | OVZ_KMOD_F_POLL | OVZ_KMOD_F_PROCFS;
	struct { struct ovz_kmod_version v; uint64_t more; } big;

	int err = ioc(fd, OVZ_KMOD_IOC_VERSION, &v);

	check(err == 0 && v.major == OVZ_KMOD_ABI_MAJOR &&
	      (v.features & all) == all && v.size == sizeof(v),
	      "VERSION", "major %u minor %u features %#llx size %u", v.major, v.minor,
	      (unsigned long long)v.features, v.size);
	memset(&big, 0xff, sizeof(big));
	big.v.size = sizeof(big);
	check(ioc(fd, OVZ_KMOD_IOC_VERSION, &big) == 0 && big.v.size == sizeof(v) &&
	      big.more == UINT64_MAX, "VERSION with a larger struct fills only its own",
	      "size %u", big.v.size);
	v.size = 8;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_VERSION, &v), EINVAL, "VERSION size 8");
	expect_errno(ioc(fd, OVZ_KMOD_IOC_VERSION, NULL), EFAULT, "VERSION NULL");
}

static void check_malformed(int fd, int cgfd)
{
	static char huge[8192];
	struct ovz_kmod_ve ve;
	char buf[16];
	int notpid = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int notcg = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int gone;
	pid_t child;

	expect_errno(ioc(fd, _IO(OVZ_KMOD_IOC_MAGIC, 99), NULL), ENOTTY, "unknown ioctl");
	expect_errno(ioc(fd, _IOW('T', 1, int), &ve), ENOTTY, "foreign ioctl");
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, NULL), EFAULT, "REGISTER NULL");
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, (void *)16), EFAULT, "REGISTER bad pointer");
	fill_ve(&ve, ve_pidfd, cgfd);
	ve.size = 0;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER size 0");
	ve.size = sizeof(ve) - 8;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER size below v0");
	fill_ve((struct ovz_kmod_ve *)huge, ve_pidfd, cgfd);
	((struct ovz_kmod_ve *)huge)->size = sizeof(huge);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, huge), E2BIG, "REGISTER size 8192");
	((struct ovz_kmod_ve *)huge)->size = 600;
	huge[599] = 1;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, huge), E2BIG,
		     "REGISTER larger struct, non-zero tail");
	fill_ve(&ve, ve_pidfd, cgfd);
	ve.flags = 1;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER flags 1");
	fill_ve(&ve, ve_pidfd, cgfd);
	ve.reserved = 7;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER reserved 7");
	fill_ve(&ve, -1, cgfd);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EBADF, "REGISTER pidfd -1");
	fill_ve(&ve, 999, cgfd);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EBADF, "REGISTER pidfd not open");
	fill_ve(&ve, notpid, cgfd);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER pidfd not a pidfd");
	fill_ve(&ve, ve_pidfd, notcg);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EBADF, "REGISTER cgroup_fd not a cgroup");
	fill_ve(&ve, ve_pidfd, -5);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EBADF, "REGISTER cgroup_fd -5");
	fill_ve(&ve, ve_pidfd, cgfd);
	memset(ve.name, 'a', sizeof(ve.name));
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER unterminated name");
	fill_ve(&ve, ve_pidfd, cgfd);
	ve.name[0] = '\0';
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER empty name");
	fill_ve(&ve, ve_pidfd, cgfd);
	ve.ubc[OVZ_UBC_NUMPROC][0] = 300;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL, "REGISTER barrier > limit");
	gone = syscall(SYS_pidfd_open, getpid(), 0);
	fill_ve(&ve, gone, cgfd);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EINVAL,
		     "REGISTER the host's PID namespace");
	close(gone);
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	gone = syscall(SYS_pidfd_open, child, 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	fill_ve(&ve, gone, cgfd);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), ESRCH, "REGISTER process gone");
	close(gone);
	fill_ve(&ve, ve_pidfd, cgfd);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_UPDATE, &ve), ENOENT, "UPDATE unregistered");
	expect_errno(ioc(fd, OVZ_KMOD_IOC_UNREGISTER, NULL), ENOENT, "UNREGISTER unregistered");
	errno = 0;
	check(pread(fd, buf, sizeof(buf), 0) < 0 && errno == EINVAL,
	      "read() smaller than the header", "%s", strerror(errno));
	close(notpid);
	close(notcg);
}

static ssize_t snapshot(int fd, struct ovz_kmod_snapshot_header *h,
			struct ovz_kmod_counters *c, size_t nrec)
{
	char buf[4096];
	size_t want = sizeof(*h) + nrec * sizeof(*c);
	ssize_t n = pread(fd, buf, want, 0);

	memset(h, 0, sizeof(*h));
	if (n >= (ssize_t)sizeof(*h))
		memcpy(h, buf, sizeof(*h));
	if (nrec && n >= (ssize_t)(sizeof(*h) + sizeof(*c)))
		memcpy(c, buf + sizeof(*h), sizeof(*c));
	return n;
}

static void check_register(int fd, int cgfd)
{
	struct ovz_kmod_snapshot_header h;
	struct ovz_kmod_counters c;
	struct ovz_kmod_ve ve;
	int other = open_dev();
	double now;

	fill_ve(&ve, ve_pidfd, cgfd);
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), 0, "REGISTER the VE");
	expect_errno(ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve), EBUSY, "REGISTER twice on one file");
	expect_errno(ioc(other, OVZ_KMOD_IOC_REGISTER, &ve), EEXIST,
		     "REGISTER its namespace from another file");
	snapshot(other, &h, &c, 0);
	check(h.size == sizeof(h) && h.count == 1 && h.returned == 0,
	      "snapshot with room for the header only", "count %u returned %u", h.count,
	      h.returned);
	close(other);

	snapshot(fd, &h, &c, 1);
	now = boottime();
	check(h.size == sizeof(h) && h.record_size == sizeof(c) && h.count == 1 &&
	      h.returned == 1 && !strcmp(c.name, "101"), "snapshot header and name",
	      "size %u record %u count %u returned %u name %s", h.size, h.record_size,
	      h.count, h.returned, c.name);
	check(c.memory_limit == 256 * MiB, "snapshot memory_limit = 256M", "%llu",
	      (unsigned long long)c.memory_limit);
	check(c.numproc == 1, "snapshot numproc = 1 (the init)", "%llu",
	      (unsigned long long)c.numproc);
	check(c.start_boottime_ns / 1e9 >= ve_started - 0.5 &&
	      c.start_boottime_ns / 1e9 <= now, "snapshot start_boottime_ns",
	      "%.2f, forked at %.2f", c.start_boottime_ns / 1e9, ve_started);
	check(c.memory_usage > 0 && c.memory_usage < 64 * MiB, "snapshot memory_usage",
	      "%llu", (unsigned long long)c.memory_usage);
}

static void check_poll(int fd)
{
	struct ovz_kmod_snapshot_header h0, h;
	struct ovz_kmod_counters c;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	double t0;
	int n;

	snapshot(fd, &h0, &c, 1);
	check(poll(&p, 1, 0) == 0, "poll() quiet after a read", "revents %#x", p.revents);
	t0 = boottime();
	in_ve(overflow_fn, NULL, buf, sizeof(buf));
	n = poll(&p, 1, 3000);
	snapshot(fd, &h, &c, 1);
	check(n == 1 && (p.revents & POLLIN) && h.generation > h0.generation &&
	      c.memory_failcnt > 0, "poll() wakes on a failcnt change",
	      "after %.2f s, generation %llu -> %llu, failcnt %llu", boottime() - t0,
	      (unsigned long long)h0.generation, (unsigned long long)h.generation,
	      (unsigned long long)c.memory_failcnt);
	check(c.memory_peak >= 200 * MiB, "snapshot memory_peak after the overflow", "%llu MiB",
	      (unsigned long long)(c.memory_peak / MiB));
}

static const char ubc_head[] =
	"Version: 2.5\n"
	"       uid  resource                     held              maxheld"
	"              barrier                limit              failcnt\n"
	"      101:  kmemsize     ";

static void check_procfs(int fd, int cgfd)
{
	static char buf[1 << 16], host[1 << 16];
	long before, during;
	struct ovz_kmod_ve ve;
	double up, age;
	int ncpu;

	mkdir(MNT, 0755);
	check(mount("none", MNT, OVZ_KMOD_FSTYPE, 0, NULL) == 0, "mount -t ovzproc", "%s",
	      strerror(errno));

	ve_cat("meminfo", buf, sizeof(buf));
	check(field_kb(buf, "MemTotal:") == 262144, "VE meminfo MemTotal = 262144 kB",
	      "%ld", field_kb(buf, "MemTotal:"));
	in_ve(free_fn, NULL, buf, sizeof(buf));
	{
		char *mem = strstr(buf, "Mem:");
		long total = -1, used = -1;

		if (mem)
			sscanf(mem, "Mem: %ld %ld", &total, &used);
		check(total == 256 && used >= 0 && used < 64, "VE free -m: 256 total",
		      "%.*s", mem ? (int)strcspn(mem, "\n") : 0, mem ? mem : "");
	}
	in_ve(hog_fn, NULL, buf, sizeof(buf));
	sscanf(buf, "%ld %ld", &before, &during);
	check(before > 0 && during > 0 && before - during >= 90 * 1024,
	      "VE meminfo MemFree falls by a 100 MiB hog", "%ld kB -> %ld kB", before, during);

	ve_cat("uptime", buf, sizeof(buf));
	up = atof(buf);
	age = boottime() - ve_started;
	check(up > 0 && up <= age + 0.05 && up >= age - 1.5, "VE uptime = its age",
	      "uptime %.2f, forked %.2f s ago", up, age);

	ve_cat("loadavg", buf, sizeof(buf));
	{
		double a, b, c;
		int running, total, last;

		check(sscanf(buf, "%lf %lf %lf %d/%d %d", &a, &b, &c, &running, &total,
			     &last) == 6 && total >= 2 && total < 10 && running >= 1 &&
		      last > 1 && last < 1000, "VE loadavg layout, its own tasks and last pid",
		      "%.*s", (int)strcspn(buf, "\n"), buf);
	}

	ve_cat("user_beancounters", buf, sizeof(buf));
	check(!strncmp(buf, ubc_head, strlen(ubc_head)),
	      "VE user_beancounters: OpenVZ's header, then 101", "%.*s",
	      (int)strcspn(buf, "\n"), buf);
	check(count_lines(buf, "      101:") == 1 && count_lines(buf, "            ") == 20 &&
	      strstr(buf, "            physpages ") && strstr(buf, "            swappages "),
	      "VE user_beancounters: one VE, 21 resources", "");
	{
		char *p = strstr(buf, "physpages");
		unsigned long long held, maxheld, barrier, limit, failcnt;

		check(p && sscanf(p, "physpages %llu %llu %llu %llu %llu", &held, &maxheld,
				  &barrier, &limit, &failcnt) == 5 && limit == 65536 &&
		      maxheld >= held && maxheld > 50000 && failcnt > 0,
		      "VE user_beancounters physpages: held, maxheld, limit, failcnt", "%.*s",
		      p ? (int)strcspn(p, "\n") : 0, p ? p : "");
	}

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	ve_cat("cpuinfo", buf, sizeof(buf));
	check(count_lines(buf, "processor") == ncpu, "VE cpuinfo: all CPUs before UPDATE",
	      "%d of %d", count_lines(buf, "processor"), ncpu);
	fill_ve(&ve, ve_pidfd, cgfd);
	ve.cpus = 1;
	expect_errno(ioc(fd, OVZ_KMOD_IOC_UPDATE, &ve), 0, "UPDATE cpus = 1");
	ve_cat("cpuinfo", buf, sizeof(buf));
	check(count_lines(buf, "processor") == 1 && strstr(buf, "processor\t: 0\n"),
	      "VE cpuinfo: 1 CPU after UPDATE", "%d", count_lines(buf, "processor"));
	ve_cat("stat", buf, sizeof(buf));
	check(count_lines(buf, "cpu") == 2 && count_lines(buf, "cpu0 ") == 1 &&
	      strstr(buf, "\nbtime ") && strstr(buf, "\nprocs_running "),
	      "VE stat: cpu and cpu0 only", "%d cpu lines", count_lines(buf, "cpu"));
	ve_cat("diskstats", buf, sizeof(buf));
	check(buf[0] == '\0', "VE diskstats empty", "%zu bytes", strlen(buf));
	ve_cat("swaps", buf, sizeof(buf));
	check(!strncmp(buf, "Filename", 8) && count_lines(buf, "/") == 0,
	      "VE swaps: header, no swap (swap.max 0)", "");
	{
		/* A file that registered nothing changes the VE its pidfd names. */
		int other = open(OVZ_KMOD_DEVICE, O_RDWR | O_CLOEXEC);

		fill_ve(&ve, ve_pidfd, cgfd);
		ve.cpus = 0;
		expect_errno(ioc(other, OVZ_KMOD_IOC_UPDATE, &ve), 0,
			     "UPDATE through another file, by the VE's pidfd");
		ve_cat("cpuinfo", buf, sizeof(buf));
		check(count_lines(buf, "processor") == ncpu,
		      "VE cpuinfo: all CPUs again after that UPDATE", "%d",
		      count_lines(buf, "processor"));
		close(other);
	}

	/* a reader outside every VE: the host's files */
	read_file(MNT "/meminfo", buf, sizeof(buf));
	read_file("/proc/meminfo", host, sizeof(host));
	check(field_kb(buf, "MemTotal:") == field_kb(host, "MemTotal:") &&
	      field_kb(buf, "MemTotal:") > 262144, "host meminfo from ovzproc", "%ld kB",
	      field_kb(buf, "MemTotal:"));
	read_file(MNT "/cpuinfo", buf, sizeof(buf));
	check(count_lines(buf, "processor") == ncpu, "host cpuinfo from ovzproc", "%d",
	      count_lines(buf, "processor"));
	read_file(MNT "/uptime", buf, sizeof(buf));
	read_file("/proc/uptime", host, sizeof(host));
	check(atof(buf) > 0 && atof(buf) - atof(host) < 1.0 && atof(host) - atof(buf) < 1.0,
	      "host uptime from ovzproc", "%.2f vs %.2f", atof(buf), atof(host));
	read_file(MNT "/user_beancounters", buf, sizeof(buf));
	check(!strncmp(buf, "Version: 2.5\n", 13) && count_lines(buf, "      101:") == 1,
	      "host user_beancounters lists the VE", "");
	read_file(MNT "/stat", buf, sizeof(buf));
	check(count_lines(buf, "cpu") == ncpu + 1, "host stat from ovzproc", "");
	check(read_file(MNT "/swaps", buf, sizeof(buf)) > 0 && !strncmp(buf, "Filename", 8),
	      "host swaps from ovzproc", "");
}

static void check_loadavg(void)
{
	char buf[256];
	double start, peak = 0, t0 = boottime(), t, low;
	pid_t group;

	start = ve_load1(buf, sizeof(buf));
	group = start_spinners();
	do {
		sleep(5);
		peak = ve_load1(buf, sizeof(buf));
		t = boottime() - t0;
	} while (peak < 1.5 && t < 75);
	check(peak >= 1.5, "VE loadavg rises under four spinners", "%.2f -> %.2f in %.0f s",
	      start, peak, t);
	kill(-group, SIGKILL);
	waitpid(group, NULL, 0);
	t0 = boottime();
	do {
		sleep(5);
		low = ve_load1(buf, sizeof(buf));
		t = boottime() - t0;
	} while (low > peak * 0.75 && t < 40);
	check(low <= peak * 0.75, "VE loadavg falls after", "%.2f -> %.2f in %.0f s", peak,
	      low, t);
}

static void check_unload(int fd)
{
	int err;

	expect_in_use("rmmod refused while mounted and open");
	close(fd);
	expect_in_use("rmmod refused while mounted");
	check(umount(MNT) == 0, "umount ovzproc", "%s", strerror(errno));
	fd = open_dev();
	expect_in_use("rmmod refused while /dev/ovz is open");
	close(fd);
	check(allocations() == 0, "no allocations left once idle", "%ld", allocations());
	err = rmmod();
	expect_errno(err, 0, "rmmod once unused");
	check(access(OVZ_KMOD_DEVICE, F_OK) != 0, "/dev/ovz gone after rmmod", "");
}

static void check_cycles(int cgfd)
{
	struct ovz_kmod_snapshot_header h;
	struct ovz_kmod_counters c;
	struct ovz_kmod_ve ve;
	int i, bad = 0, fd;
	long during = -1;

	expect_errno(insmod(), 0, "insmod again");
	fill_ve(&ve, ve_pidfd, cgfd);
	for (i = 0; i < 1000; i++) {
		fd = open_dev();
		if (fd < 0 || ioc(fd, OVZ_KMOD_IOC_REGISTER, &ve) ||
		    snapshot(fd, &h, &c, 1) <= 0 || h.returned != 1)
			bad++;
		if (i == 500)
			during = allocations();
		if (i % 2 && ioc(fd, OVZ_KMOD_IOC_UNREGISTER, NULL))
			bad++;
		close(fd);
	}
	check(bad == 0, "1000 register/read/unregister cycles", "%d failed", bad);
	check(during > 0 && allocations() == 0, "allocations back to zero after the cycles",
	      "%ld while registered, %ld after", during, allocations());
	expect_errno(rmmod(), 0, "rmmod after the cycles");
}

static void check_dmesg(void)
{
	static char log[1 << 20];
	static const char *bad[] = { "BUG:", "Oops", "WARNING:", "general protection",
				     "refcount_t:", "UBSAN", "KASAN", "list_add corruption",
				     "list_del corruption" };
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	size_t i;
	bool clean = true;

	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);
	if (n < 0)
		n = 0;
	log[n] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *p = strstr(log, bad[i]);

		if (p) {
			clean = false;
			printf("dmesg: %.*s\n", (int)strcspn(p, "\n"), p);
		}
	}
	check(clean, "dmesg: no oops, BUG or WARNING", "");
}

int main(void)
{
	int fd, cgfd, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!getenv("OVZ_KMOD_DIR")) {
		printf("SKIPPED: OVZ_KMOD_DIR is unset: this runs in the lab, "
		       "tests/lab/run -- build/tests/ovz_kmod_test\n");
		return 77;
	}
	if (geteuid() != 0) {
		printf("SKIPPED: needs root (the lab runs it as root)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	err = insmod();
	if (err == EEXIST && rmmod() == 0)
		err = insmod();
	expect_errno(err, 0, "insmod ovz.ko");
	if (err)
		return 1;
	/* the VE first: its init must not inherit our /dev/ovz file */
	setup_cgroup();
	start_ve();
	fd = open_dev();
	check(fd >= 0, "open " OVZ_KMOD_DEVICE, "%s", strerror(errno));
	if (fd < 0)
		return 1;
	cgfd = open(CG, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	check_version(fd);
	check_malformed(fd, cgfd);
	check_register(fd, cgfd);
	check_poll(fd);
	check_procfs(fd, cgfd);
	if (!getenv("OVZ_KMOD_QUICK"))
		check_loadavg();
	check_unload(fd);
	check_cycles(cgfd);
	check_dmesg();

	kill(ve_init, SIGKILL);
	printf("kmod_test: %d failed\n", failures);
	return failures ? 1 : 0;
}
