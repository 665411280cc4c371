/* SPDX-License-Identifier: GPL-2.0 */
/* ovz.h: what the module's files share. */
#ifndef OVZ_H
#define OVZ_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "uapi/ovz_kmod.h"

struct pid;
struct pid_namespace;
struct mem_cgroup;
struct seq_file;
struct cpumask;

/*
 * One registered VE. Owned by the registry's list (one reference) and by
 * whoever looked it up (procfs readers, the sampler); freed at the last put.
 */
struct ovz_ve {
	struct list_head node;		/* ovz_registry, under ovz_registry_lock */
	struct kref ref;
	struct pid_namespace *ns;	/* the VE's PID namespace: its identity */
	struct pid *init_pid;		/* the VE's init, for its start and affinity */
	struct mem_cgroup *memcg;	/* css reference held */
	u64 start_boottime;		/* init's start, CLOCK_BOOTTIME ns */
	char name[OVZ_KMOD_NAME_MAX];

	spinlock_t lock;		/* protects what follows */
	u32 cpus;			/* 0: as the init's affinity says */
	u64 ubc[OVZ_KMOD_UBC_COUNT][2];
	/* the sampler's state */
	unsigned long last_mem_failcnt, last_swap_failcnt;
	unsigned long loadavg[3];	/* FSHIFT fixed point */
	unsigned long load_sum;		/* active tasks summed over samples */
	unsigned int load_samples;
	u64 numproc_max;
};

/* Tasks of a PID namespace, counted under RCU. */
struct ovz_tasks {
	unsigned long total;		/* threads */
	unsigned long running;
	unsigned long uninterruptible;
};

/* ovz_main.c: allocation accounting, so tests can see leaks. */
void *ovz_alloc(size_t size);
void ovz_free(const void *p);

/* ovz_registry.c */
extern struct list_head ovz_registry;
extern struct mutex ovz_registry_lock;
extern atomic64_t ovz_generation;
extern wait_queue_head_t ovz_wait;
int ovz_ve_create(const struct ovz_kmod_ve *arg, struct ovz_ve **out);
void ovz_ve_apply(struct ovz_ve *ve, const struct ovz_kmod_ve *arg);
int ovz_ve_check_same(struct ovz_ve *ve, int pidfd);
struct ovz_ve *ovz_ve_of_pidfd(int pidfd);
void ovz_ve_remove(struct ovz_ve *ve);
void ovz_ve_put(struct ovz_ve *ve);
struct ovz_ve *ovz_ve_of_current(void);
unsigned int ovz_registry_count(void);
int ovz_registry_init(void);
void ovz_registry_exit(void);
int ovz_check_ve_arg(const struct ovz_kmod_ve *arg);

/* ovz_counters.c */
void ovz_count_tasks(struct pid_namespace *ns, struct ovz_tasks *t);
void ovz_fill_counters(struct ovz_ve *ve, struct ovz_kmod_counters *c);
u64 ovz_memory_limit(struct ovz_ve *ve);	/* bytes, capped at RAM */
unsigned int ovz_ve_cpus(struct ovz_ve *ve, struct cpumask *mask);
void ovz_sample_init(struct ovz_ve *ve);
void ovz_sampler_kick(void);
void ovz_sampler_stop(void);

/* ovz_render.c: the VE's view of each file */
int ovz_render_meminfo(struct seq_file *m, struct ovz_ve *ve);
int ovz_render_cpuinfo(struct seq_file *m, struct ovz_ve *ve);
int ovz_render_stat(struct seq_file *m, struct ovz_ve *ve);
int ovz_render_loadavg(struct seq_file *m, struct ovz_ve *ve);
int ovz_render_uptime(struct seq_file *m, struct ovz_ve *ve);
int ovz_render_swaps(struct seq_file *m, struct ovz_ve *ve);
int ovz_render_ubc(struct seq_file *m, struct ovz_ve *ve);
int ovz_render_ubc_all(struct seq_file *m);

/* ovz_host.c: the host's own /proc files, for readers outside VEs */
int ovz_host_init(void);
void ovz_host_exit(void);
int ovz_host_copy(struct seq_file *m, const char *name);
char *ovz_host_read(const char *name, size_t *len);	/* ovz_free() it */

/* ovz_dev.c, ovz_procfs.c */
int ovz_dev_init(void);
void ovz_dev_exit(void);
int ovz_procfs_init(void);
void ovz_procfs_exit(void);

#endif /* OVZ_H */
