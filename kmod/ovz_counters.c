// SPDX-License-Identifier: GPL-2.0
/*
 * ovz_counters.c: a VE's counters (its memory cgroup's page counters, the
 * tasks of its PID namespace) and the sampler that turns them into loadavg
 * and failcnt events.
 *
 * The sampler is a delayed work item every OVZ_SAMPLE_MS while any VE is
 * registered: it notices failcnt changes within that period (then bumps the
 * generation and wakes poll()ers) and averages the VE's active tasks over
 * LOAD_FREQ (5 s) for the kernel's loadavg formula.
 */
#include <linux/cpumask.h>
#include <linux/idr.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/page_counter.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/loadavg.h>
#include <linux/sched/task.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "ovz.h"

#define OVZ_SAMPLE_MS 250
#define OVZ_LOAD_SAMPLES (LOAD_FREQ / msecs_to_jiffies(OVZ_SAMPLE_MS))

static void ovz_sample(struct work_struct *work);
static DECLARE_DELAYED_WORK(ovz_sampler, ovz_sample);
static bool ovz_sampler_running;	/* under ovz_registry_lock */

/*
 * Counts the tasks (threads) of @ns and its descendants: every struct pid
 * has a number in each ancestor namespace, so @ns's idr holds them all. The
 * idr may be walked under RCU, as /proc's readdir does.
 */
void ovz_count_tasks(struct pid_namespace *ns, struct ovz_tasks *t)
{
	struct pid *pid;
	int nr = 0;

	memset(t, 0, sizeof(*t));
	rcu_read_lock();
	while ((pid = idr_get_next(&ns->idr, &nr))) {
		struct task_struct *task = pid_task(pid, PIDTYPE_PID);
		unsigned int state;

		nr++;
		if (!task)
			continue;
		t->total++;
		state = READ_ONCE(task->__state);
		/* What the kernel's own loadavg counts (task_contributes_to_load) */
		if (state == TASK_RUNNING)
			t->running++;
		else if ((state & TASK_UNINTERRUPTIBLE) &&
			 !(state & TASK_NOLOAD) && !(state & TASK_FROZEN))
			t->uninterruptible++;
	}
	rcu_read_unlock();
}

/* The smallest max of a page counter and its ancestors', in pages. */
static unsigned long ovz_counter_max(struct mem_cgroup *memcg, bool swap)
{
	unsigned long max = PAGE_COUNTER_MAX;

	for (; memcg; memcg = parent_mem_cgroup(memcg)) {
		struct page_counter *c = swap ? &memcg->swap : &memcg->memory;

		max = min(max, READ_ONCE(c->max));
	}
	return max;
}

static bool ovz_memcg_v2(void)
{
	return cgroup_subsys_on_dfl(memory_cgrp_subsys);
}

/* The memory limit in bytes: the cgroup's (or an ancestor's), at most RAM. */
u64 ovz_memory_limit(struct ovz_ve *ve)
{
	unsigned long pages = ovz_counter_max(ve->memcg, false);

	return (u64)min(pages, totalram_pages()) << PAGE_SHIFT;
}

/*
 * Swap in pages. cgroup2 has a swap counter of its own; cgroup v1 counts
 * memory+swap (memsw, in the same place as v2's swap), so swap is the rest.
 */
static void ovz_swap(struct ovz_ve *ve, unsigned long *usage,
		     unsigned long *limit, unsigned long *failcnt)
{
	struct mem_cgroup *memcg = ve->memcg;
	unsigned long max = ovz_counter_max(memcg, true);

	*failcnt = READ_ONCE(memcg->swap.failcnt);
	if (ovz_memcg_v2()) {
		*usage = page_counter_read(&memcg->swap);
		*limit = max;
		return;
	}
	*usage = page_counter_read(&memcg->memsw);
	*usage -= min(*usage, page_counter_read(&memcg->memory));
	if (max == PAGE_COUNTER_MAX)
		*limit = max;
	else
		*limit = max - min(max, ovz_counter_max(memcg, false));
}

static u64 ovz_bytes(unsigned long pages)
{
	if (pages >= PAGE_COUNTER_MAX)
		return OVZ_KMOD_UNLIMITED;
	return (u64)pages << PAGE_SHIFT;
}

void ovz_fill_counters(struct ovz_ve *ve, struct ovz_kmod_counters *c)
{
	struct mem_cgroup *memcg = ve->memcg;
	unsigned long swap_usage, swap_limit, swap_failcnt;
	struct ovz_tasks t;

	ovz_count_tasks(ve->ns, &t);
	ovz_swap(ve, &swap_usage, &swap_limit, &swap_failcnt);
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	memcpy(c->name, ve->name, sizeof(c->name));
	c->memory_usage = ovz_bytes(page_counter_read(&memcg->memory));
	c->memory_peak = ovz_bytes(READ_ONCE(memcg->memory.watermark));
	c->memory_limit = ovz_memory_limit(ve);
	c->memory_failcnt = READ_ONCE(memcg->memory.failcnt);
	c->swap_usage = ovz_bytes(swap_usage);
	c->swap_limit = ovz_bytes(swap_limit);
	c->swap_failcnt = swap_failcnt;
	/* cgroup2 charges kernel memory to memory itself, not to kmem. */
	c->kmem_usage = ovz_memcg_v2() ? 0 :
		ovz_bytes(page_counter_read(&memcg->kmem));
	c->numproc = t.total;
	c->numproc_failcnt = 0;	/* the pids controller's state is private */
	c->start_boottime_ns = ve->start_boottime;
	spin_lock(&ve->lock);
	c->loadavg[0] = ve->loadavg[0];
	c->loadavg[1] = ve->loadavg[1];
	c->loadavg[2] = ve->loadavg[2];
	spin_unlock(&ve->lock);
}

/*
 * The CPUs @ve sees, in @mask: the online CPUs its init may run on (its
 * affinity, which cpuset confines), the first ve->cpus of them if that is
 * set. Returns how many.
 */
unsigned int ovz_ve_cpus(struct ovz_ve *ve, struct cpumask *mask)
{
	struct task_struct *task = get_pid_task(ve->init_pid, PIDTYPE_PID);
	unsigned int n, want, cpu;

	cpumask_copy(mask, cpu_online_mask);
	if (task) {
		cpumask_and(mask, mask, task->cpus_ptr);
		put_task_struct(task);
		if (cpumask_empty(mask))
			cpumask_copy(mask, cpu_online_mask);
	}
	n = cpumask_weight(mask);
	spin_lock(&ve->lock);
	want = ve->cpus;
	spin_unlock(&ve->lock);
	if (!want || want >= n)
		return n;
	n = 0;
	for_each_cpu(cpu, mask) {
		if (n < want)
			n++;
		else
			cpumask_clear_cpu(cpu, mask);
	}
	return n;
}

void ovz_sample_init(struct ovz_ve *ve)
{
	unsigned long usage, limit;

	ve->last_mem_failcnt = READ_ONCE(ve->memcg->memory.failcnt);
	ovz_swap(ve, &usage, &limit, &ve->last_swap_failcnt);
}

/* One sample of one VE; true if a failcnt moved. */
static bool ovz_sample_ve(struct ovz_ve *ve)
{
	unsigned long mem_failcnt, swap_failcnt, usage, limit;
	struct ovz_tasks t;
	bool moved;

	ovz_count_tasks(ve->ns, &t);
	mem_failcnt = READ_ONCE(ve->memcg->memory.failcnt);
	ovz_swap(ve, &usage, &limit, &swap_failcnt);

	spin_lock(&ve->lock);
	moved = mem_failcnt != ve->last_mem_failcnt ||
		swap_failcnt != ve->last_swap_failcnt;
	ve->last_mem_failcnt = mem_failcnt;
	ve->last_swap_failcnt = swap_failcnt;
	ve->numproc_max = max_t(u64, ve->numproc_max, t.total);
	ve->load_sum += t.running + t.uninterruptible;
	if (++ve->load_samples >= OVZ_LOAD_SAMPLES) {
		/*
		 * The kernel samples once per LOAD_FREQ; the mean over the
		 * period is steadier for a handful of tasks.
		 */
		unsigned long active = ve->load_sum * FIXED_1 /
				       ve->load_samples;

		ve->loadavg[0] = calc_load(ve->loadavg[0], EXP_1, active);
		ve->loadavg[1] = calc_load(ve->loadavg[1], EXP_5, active);
		ve->loadavg[2] = calc_load(ve->loadavg[2], EXP_15, active);
		ve->load_sum = 0;
		ve->load_samples = 0;
	}
	spin_unlock(&ve->lock);
	return moved;
}

static void ovz_sample(struct work_struct *work)
{
	struct ovz_ve *ve;
	bool moved = false;

	mutex_lock(&ovz_registry_lock);
	list_for_each_entry(ve, &ovz_registry, node)
		moved |= ovz_sample_ve(ve);
	if (list_empty(&ovz_registry))
		ovz_sampler_running = false;
	else
		schedule_delayed_work(&ovz_sampler,
				      msecs_to_jiffies(OVZ_SAMPLE_MS));
	mutex_unlock(&ovz_registry_lock);
	if (moved) {
		atomic64_inc(&ovz_generation);
		wake_up_interruptible(&ovz_wait);
	}
}

/* Starts the sampler if it sleeps; called with ovz_registry_lock held. */
void ovz_sampler_kick(void)
{
	lockdep_assert_held(&ovz_registry_lock);
	if (ovz_sampler_running)
		return;
	ovz_sampler_running = true;
	schedule_delayed_work(&ovz_sampler, msecs_to_jiffies(OVZ_SAMPLE_MS));
}

void ovz_sampler_stop(void)
{
	cancel_delayed_work_sync(&ovz_sampler);
	ovz_sampler_running = false;
}
