// SPDX-License-Identifier: GPL-2.0
/*
 * ovz_render.c: what a reader inside a VE sees in each ovzproc file, in
 * the layout of the /proc file it stands in for.
 */
#include <linux/cpumask.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/kernel_stat.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/page_counter.h>
#include <linux/pid_namespace.h>
#include <linux/sched/loadavg.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tick.h>
#include <linux/timekeeping.h>

#include "ovz.h"

static void ovz_kb(struct seq_file *m, const char *key, u64 bytes)
{
	seq_printf(m, "%-16s%8llu kB\n", key, bytes >> 10);
}

/* A "Key:   value kB" field of a host /proc/meminfo text, in bytes. */
static u64 ovz_meminfo_field(const char *text, const char *key)
{
	const char *p = text;
	size_t klen = strlen(key);
	unsigned long long kb;

	while (p && *p) {
		if (!strncmp(p, key, klen) &&
		    sscanf(p + klen, " %llu", &kb) == 1)
			return (u64)kb << 10;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static u64 ovz_host_swap_total(void)
{
	size_t len;
	char *text = ovz_host_read("meminfo", &len);
	u64 total;

	if (IS_ERR(text))
		return 0;
	total = ovz_meminfo_field(text, "SwapTotal:");
	ovz_free(text);
	return total;
}

/*
 * MemTotal is the VE's memory limit, MemFree and MemAvailable what is left
 * of it. What the module cannot see per cgroup (memcg_page_state() is not
 * exported: cache, anon, slab) is 0, so free(1) counts all usage as used.
 */
int ovz_render_meminfo(struct seq_file *m, struct ovz_ve *ve)
{
	struct ovz_kmod_counters c;
	u64 free, swap_total, swap_free;

	ovz_fill_counters(ve, &c);
	free = c.memory_limit - min(c.memory_limit, c.memory_usage);
	swap_total = min(c.swap_limit, ovz_host_swap_total());
	swap_free = swap_total - min(swap_total, c.swap_usage);

	ovz_kb(m, "MemTotal:", c.memory_limit);
	ovz_kb(m, "MemFree:", free);
	ovz_kb(m, "MemAvailable:", free);
	ovz_kb(m, "Buffers:", 0);
	ovz_kb(m, "Cached:", 0);
	ovz_kb(m, "SwapCached:", 0);
	ovz_kb(m, "Active:", 0);
	ovz_kb(m, "Inactive:", 0);
	ovz_kb(m, "Active(anon):", 0);
	ovz_kb(m, "Inactive(anon):", 0);
	ovz_kb(m, "Active(file):", 0);
	ovz_kb(m, "Inactive(file):", 0);
	ovz_kb(m, "Unevictable:", 0);
	ovz_kb(m, "Mlocked:", 0);
	ovz_kb(m, "SwapTotal:", swap_total);
	ovz_kb(m, "SwapFree:", swap_free);
	ovz_kb(m, "Dirty:", 0);
	ovz_kb(m, "Writeback:", 0);
	ovz_kb(m, "AnonPages:", 0);
	ovz_kb(m, "Mapped:", 0);
	ovz_kb(m, "Shmem:", 0);
	ovz_kb(m, "KReclaimable:", 0);
	ovz_kb(m, "Slab:", 0);
	ovz_kb(m, "SReclaimable:", 0);
	ovz_kb(m, "SUnreclaim:", 0);
	ovz_kb(m, "KernelStack:", 0);
	ovz_kb(m, "PageTables:", 0);
	ovz_kb(m, "CommitLimit:", c.memory_limit);
	ovz_kb(m, "Committed_AS:", c.memory_usage);
	return 0;
}

/* "cpuN" at @p (not the "cpu " sum): N, else -1. */
static int ovz_stat_cpu(const char *p, const char **rest)
{
	unsigned int cpu;
	int n = 0;

	if (strncmp(p, "cpu", 3) || p[3] < '0' || p[3] > '9')
		return -1;
	if (sscanf(p + 3, "%u%n", &cpu, &n) != 1)
		return -1;
	*rest = p + 3 + n;
	return cpu;
}

static struct cpumask *ovz_cpus_of(struct ovz_ve *ve, unsigned int *n)
{
	struct cpumask *mask = ovz_alloc(cpumask_size());

	if (mask)
		*n = ovz_ve_cpus(ve, mask);
	return mask;
}

/*
 * The host's cpuinfo, only the blocks of the VE's CPUs, renumbered from 0
 * (each block starts with "processor\t: N" and ends with an empty line).
 */
int ovz_render_cpuinfo(struct seq_file *m, struct ovz_ve *ve)
{
	unsigned int n, index = 0;
	struct cpumask *mask;
	char *text, *p;
	size_t len;

	mask = ovz_cpus_of(ve, &n);
	if (!mask)
		return -ENOMEM;
	text = ovz_host_read("cpuinfo", &len);
	if (IS_ERR(text)) {
		ovz_free(mask);
		return PTR_ERR(text);
	}
	for (p = text; *p;) {
		char *end = strstr(p, "\n\n");
		char *eol = strchr(p, '\n');
		unsigned int cpu;

		end = end ? end + 2 : p + strlen(p);
		if (!eol || eol > end)
			eol = end;
		if (sscanf(p, "processor : %u", &cpu) == 1) {
			if (cpu < nr_cpu_ids && cpumask_test_cpu(cpu, mask)) {
				seq_printf(m, "processor\t: %u", index++);
				seq_write(m, eol, end - eol);
			}
		} else {
			seq_write(m, p, end - p);
		}
		p = end;
	}
	ovz_free(text);
	ovz_free(mask);
	return 0;
}

#define OVZ_STAT_FIELDS 10

/*
 * The host's stat with the VE's CPUs only (renumbered, summed into "cpu"),
 * its boot time, and its own running and blocked tasks.
 */
int ovz_render_stat(struct seq_file *m, struct ovz_ve *ve)
{
	unsigned long long sum[OVZ_STAT_FIELDS] = { 0 }, v[OVZ_STAT_FIELDS];
	unsigned int n, index, i, pass;
	struct cpumask *mask;
	struct ovz_tasks t;
	char *text, *p;
	size_t len;

	mask = ovz_cpus_of(ve, &n);
	if (!mask)
		return -ENOMEM;
	text = ovz_host_read("stat", &len);
	if (IS_ERR(text)) {
		ovz_free(mask);
		return PTR_ERR(text);
	}
	ovz_count_tasks(ve->ns, &t);
	/* Pass 0 sums the VE's CPUs, pass 1 prints. */
	for (pass = 0; pass < 2; pass++) {
		if (pass)
			seq_printf(m, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
				   sum[0], sum[1], sum[2], sum[3], sum[4],
				   sum[5], sum[6], sum[7], sum[8], sum[9]);
		index = 0;
		for (p = text; *p;) {
			char *eol = strchr(p, '\n');
			const char *rest;
			unsigned long long btime;
			int cpu;

			eol = eol ? eol + 1 : p + strlen(p);
			cpu = ovz_stat_cpu(p, &rest);
			if (cpu >= 0) {
				if (cpu >= nr_cpu_ids ||
				    !cpumask_test_cpu(cpu, mask))
					goto next;
				memset(v, 0, sizeof(v));
				if (sscanf(rest, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
					   &v[0], &v[1], &v[2], &v[3], &v[4],
					   &v[5], &v[6], &v[7], &v[8],
					   &v[9]) < 4)
					goto next;
				if (!pass) {
					for (i = 0; i < OVZ_STAT_FIELDS; i++)
						sum[i] += v[i];
				} else {
					seq_printf(m, "cpu%u", index);
					seq_write(m, rest, eol - rest);
				}
				index++;
			} else if (!pass || !strncmp(p, "cpu ", 4)) {
				/* the host's sum is replaced */
			} else if (sscanf(p, "btime %llu", &btime) == 1) {
				seq_printf(m, "btime %llu\n", btime +
					   div_u64(ve->start_boottime,
						   NSEC_PER_SEC));
			} else if (!strncmp(p, "processes ", 10)) {
				seq_printf(m, "processes %u\n",
					   idr_get_cursor(&ve->ns->idr) - 1);
			} else if (!strncmp(p, "procs_running ", 14)) {
				seq_printf(m, "procs_running %lu\n",
					   t.running);
			} else if (!strncmp(p, "procs_blocked ", 14)) {
				seq_printf(m, "procs_blocked %lu\n",
					   t.uninterruptible);
			} else {
				seq_write(m, p, eol - p);
			}
next:
			p = eol;
		}
	}
	ovz_free(text);
	ovz_free(mask);
	return 0;
}

int ovz_render_loadavg(struct seq_file *m, struct ovz_ve *ve)
{
	unsigned long a[3];
	struct ovz_tasks t;
	int i;

	ovz_count_tasks(ve->ns, &t);
	spin_lock(&ve->lock);
	for (i = 0; i < 3; i++)
		a[i] = ve->loadavg[i] + FIXED_1 / 200;	/* as /proc rounds */
	spin_unlock(&ve->lock);
	seq_printf(m, "%lu.%02lu %lu.%02lu %lu.%02lu %lu/%lu %u\n",
		   LOAD_INT(a[0]), LOAD_FRAC(a[0]),
		   LOAD_INT(a[1]), LOAD_FRAC(a[1]),
		   LOAD_INT(a[2]), LOAD_FRAC(a[2]),
		   t.running, t.total, idr_get_cursor(&ve->ns->idr) - 1);
	return 0;
}

static u64 ovz_cpu_idle_ns(unsigned int cpu)
{
	u64 us = get_cpu_idle_time_us(cpu, NULL);

	if (us != (u64)-1)
		return us * NSEC_PER_USEC;
	return kcpustat_cpu(cpu).cpustat[CPUTIME_IDLE];
}

/*
 * Uptime is the time since the VE's init started. Idle is its CPUs' idle
 * time, at most uptime times their number: the host's idle time of those
 * CPUs is all there is to go by.
 */
int ovz_render_uptime(struct seq_file *m, struct ovz_ve *ve)
{
	u64 now = ktime_get_boottime_ns();
	u64 up = now > ve->start_boottime ? now - ve->start_boottime : 0;
	u64 idle = 0;
	unsigned int n, cpu;
	struct cpumask *mask;
	u32 rem;

	mask = ovz_cpus_of(ve, &n);
	if (!mask)
		return -ENOMEM;
	for_each_cpu(cpu, mask)
		idle += ovz_cpu_idle_ns(cpu);
	idle = min(idle, up * n);
	ovz_free(mask);
	up = div_u64_rem(up, NSEC_PER_SEC, &rem);
	seq_printf(m, "%llu.%02u ", up, (u32)(rem / (NSEC_PER_SEC / 100)));
	idle = div_u64_rem(idle, NSEC_PER_SEC, &rem);
	seq_printf(m, "%llu.%02u\n", idle, (u32)(rem / (NSEC_PER_SEC / 100)));
	return 0;
}

/* The header, and the VE's swap as one line when it may swap. */
int ovz_render_swaps(struct seq_file *m, struct ovz_ve *ve)
{
	struct ovz_kmod_counters c;
	u64 total;

	seq_puts(m, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	ovz_fill_counters(ve, &c);
	total = min(c.swap_limit, ovz_host_swap_total());
	if (total)
		seq_printf(m, "%-40s%s\t%llu\t\t%llu\t\t%d\n", "/dev/null",
			   "partition", total >> 10,
			   min(c.swap_usage, total) >> 10, -1);
	return 0;
}

static const char *const ovz_ubc_names[OVZ_KMOD_UBC_COUNT] = {
	"kmemsize", "lockedpages", "privvmpages", "shmpages", "numproc",
	"physpages", "vmguarpages", "oomguarpages", "numtcpsock", "numflock",
	"numpty", "numsiginfo", "tcpsndbuf", "tcprcvbuf", "othersockbuf",
	"dgramrcvbuf", "numothersock", "dcachesize", "numfile", "numiptent",
	"swappages",
};

static u64 ovz_pages(u64 bytes)
{
	return bytes == OVZ_KMOD_UNLIMITED ? bytes : bytes >> PAGE_SHIFT;
}

/* One VE's block of /proc/user_beancounters, as OpenVZ's kernel prints it. */
static void ovz_ubc_block(struct seq_file *m, struct ovz_ve *ve)
{
	u64 held[OVZ_KMOD_UBC_COUNT] = { 0 }, maxheld[OVZ_KMOD_UBC_COUNT] = { 0 };
	u64 failcnt[OVZ_KMOD_UBC_COUNT] = { 0 };
	u64 ubc[OVZ_KMOD_UBC_COUNT][2];
	struct ovz_kmod_counters c;
	char uid[OVZ_KMOD_NAME_MAX + 2];
	int r;

	ovz_fill_counters(ve, &c);
	held[OVZ_UBC_KMEMSIZE] = c.kmem_usage;
	maxheld[OVZ_UBC_KMEMSIZE] = c.kmem_usage;
	held[OVZ_UBC_PHYSPAGES] = ovz_pages(c.memory_usage);
	maxheld[OVZ_UBC_PHYSPAGES] = ovz_pages(c.memory_peak);
	failcnt[OVZ_UBC_PHYSPAGES] = c.memory_failcnt;
	held[OVZ_UBC_SWAPPAGES] = ovz_pages(c.swap_usage);
	maxheld[OVZ_UBC_SWAPPAGES] = ovz_pages(c.swap_usage);
	failcnt[OVZ_UBC_SWAPPAGES] = c.swap_failcnt;
	held[OVZ_UBC_NUMPROC] = c.numproc;
	spin_lock(&ve->lock);
	maxheld[OVZ_UBC_NUMPROC] = max_t(u64, ve->numproc_max, c.numproc);
	memcpy(ubc, ve->ubc, sizeof(ubc));
	spin_unlock(&ve->lock);
	failcnt[OVZ_UBC_NUMPROC] = c.numproc_failcnt;

	for (r = 0; r < OVZ_KMOD_UBC_COUNT; r++) {
		if (r == 0)
			snprintf(uid, sizeof(uid), "%s:", ve->name);
		else
			uid[0] = '\0';
		seq_printf(m, "%10s  %-12s %20llu %20llu %20llu %20llu %20llu\n",
			   uid, ovz_ubc_names[r], held[r], maxheld[r],
			   ubc[r][0], ubc[r][1], failcnt[r]);
	}
}

static void ovz_ubc_header(struct seq_file *m)
{
	seq_puts(m, "Version: 2.5\n");
	seq_puts(m, "       uid  resource                     held              maxheld              barrier                limit              failcnt\n");
}

int ovz_render_ubc(struct seq_file *m, struct ovz_ve *ve)
{
	ovz_ubc_header(m);
	ovz_ubc_block(m, ve);
	return 0;
}

/* The host sees every registered VE, as on an OpenVZ host. */
int ovz_render_ubc_all(struct seq_file *m)
{
	struct ovz_ve *ve;

	ovz_ubc_header(m);
	mutex_lock(&ovz_registry_lock);
	list_for_each_entry(ve, &ovz_registry, node)
		ovz_ubc_block(m, ve);
	mutex_unlock(&ovz_registry_lock);
	return 0;
}
