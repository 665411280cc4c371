// SPDX-License-Identifier: GPL-2.0
/*
 * ovz_registry.c: the registered VEs. A VE is a PID namespace (named by a
 * pidfd of its init) plus a memory cgroup; one /dev/ovz file registers at
 * most one VE and the registration lives as long as the file.
 */
#include <linux/anon_inodes.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <uapi/linux/magic.h>

#include "ovz.h"

LIST_HEAD(ovz_registry);
DEFINE_MUTEX(ovz_registry_lock);
atomic64_t ovz_generation = ATOMIC64_INIT(0);
DECLARE_WAIT_QUEUE_HEAD(ovz_wait);

int ovz_check_ve_arg(const struct ovz_kmod_ve *arg)
{
	size_t len = strnlen(arg->name, sizeof(arg->name));
	size_t i;

	if (arg->flags || arg->reserved)
		return -EINVAL;
	/* The CTID is printed in user_beancounters: printable, no blanks. */
	if (len == 0 || len == sizeof(arg->name))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (arg->name[i] <= ' ' || arg->name[i] > '~')
			return -EINVAL;
	/* OpenVZ's rule: a barrier never exceeds its limit. */
	for (i = 0; i < OVZ_KMOD_UBC_COUNT; i++)
		if (arg->ubc[i][0] > arg->ubc[i][1] ||
		    arg->ubc[i][1] > OVZ_KMOD_UNLIMITED)
			return -EINVAL;
	return 0;
}

/*
 * The struct pid behind a pidfd. pidfd_pid() is not exported in 6.1, so the
 * file is recognised by what pidfd_open() makes of it: an anon-inode file
 * named "[pidfd]", whose private_data is the struct pid (kernel/pid.c).
 */
static struct pid *ovz_pidfd_pid(int fd)
{
	struct file *f;
	struct pid *pid = ERR_PTR(-EINVAL);

	if (fd < 0)
		return ERR_PTR(-EBADF);
	f = fget(fd);
	if (!f)
		return ERR_PTR(-EBADF);
	if (file_inode(f)->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	    strcmp(f->f_path.dentry->d_name.name, "[pidfd]") == 0 &&
	    f->private_data)
		pid = get_pid(f->private_data);
	fput(f);
	return pid;
}

/* The live process behind a pidfd, and its PID namespace. */
static int ovz_resolve_init(int pidfd, struct pid **pidp,
			    struct task_struct **taskp)
{
	struct pid *pid = ovz_pidfd_pid(pidfd);
	struct task_struct *task;

	if (IS_ERR(pid))
		return PTR_ERR(pid);
	task = get_pid_task(pid, PIDTYPE_PID);
	if (!task || task->exit_state) {
		if (task)
			put_task_struct(task);
		put_pid(pid);
		return -ESRCH;
	}
	*pidp = pid;
	*taskp = task;
	return 0;
}

/* The memory cgroup of a cgroup2 directory fd, or of the init's task. */
static struct mem_cgroup *ovz_resolve_memcg(int cgroup_fd,
					    struct task_struct *task)
{
	struct mem_cgroup *memcg;

	if (mem_cgroup_disabled())
		return ERR_PTR(-EOPNOTSUPP);
	if (cgroup_fd >= 0) {
		struct cgroup *cgrp = cgroup_get_from_fd(cgroup_fd);
		struct cgroup_subsys_state *css;

		if (IS_ERR(cgrp))
			return ERR_CAST(cgrp);
		/* The nearest ancestor with memory enabled, referenced. */
		css = cgroup_get_e_css(cgrp, &memory_cgrp_subsys);
		cgroup_put(cgrp);
		return mem_cgroup_from_css(css);
	}
	if (cgroup_fd != -1)
		return ERR_PTR(-EBADF);
	rcu_read_lock();
	do {
		memcg = mem_cgroup_from_task(task);
	} while (!css_tryget(&memcg->css));
	rcu_read_unlock();
	return memcg;
}

void ovz_ve_apply(struct ovz_ve *ve, const struct ovz_kmod_ve *arg)
{
	spin_lock(&ve->lock);
	ve->cpus = arg->cpus;
	memcpy(ve->ubc, arg->ubc, sizeof(ve->ubc));
	spin_unlock(&ve->lock);
}

/* UPDATE names the VE by the same pidfd: same PID namespace, still alive. */
int ovz_ve_check_same(struct ovz_ve *ve, int pidfd)
{
	struct task_struct *task;
	struct pid *pid;
	int err;

	err = ovz_resolve_init(pidfd, &pid, &task);
	if (err)
		return err;
	if (ns_of_pid(pid) != ve->ns)
		err = -EINVAL;
	put_task_struct(task);
	put_pid(pid);
	return err;
}

/*
 * The VE whose init `pidfd` names, registered through any file: a live
 * change is made by whoever changes the VE, not by the monitor that holds
 * its registration. A reference, or an ERR_PTR (-ENOENT: not registered).
 */
struct ovz_ve *ovz_ve_of_pidfd(int pidfd)
{
	struct task_struct *task;
	struct pid *pid;
	struct ovz_ve *ve, *found = ERR_PTR(-ENOENT);
	int err;

	err = ovz_resolve_init(pidfd, &pid, &task);
	if (err)
		return ERR_PTR(err);
	mutex_lock(&ovz_registry_lock);
	list_for_each_entry(ve, &ovz_registry, node) {
		if (ve->ns == ns_of_pid(pid)) {
			kref_get(&ve->ref);
			found = ve;
			break;
		}
	}
	mutex_unlock(&ovz_registry_lock);
	put_task_struct(task);
	put_pid(pid);
	return found;
}

static void ovz_ve_release(struct kref *ref)
{
	struct ovz_ve *ve = container_of(ref, struct ovz_ve, ref);

	css_put(&ve->memcg->css);
	put_pid(ve->init_pid);
	put_pid_ns(ve->ns);
	ovz_free(ve);
}

void ovz_ve_put(struct ovz_ve *ve)
{
	kref_put(&ve->ref, ovz_ve_release);
}

/* Registers the VE @arg describes (checked by ovz_check_ve_arg). */
int ovz_ve_create(const struct ovz_kmod_ve *arg, struct ovz_ve **out)
{
	struct task_struct *task;
	struct pid_namespace *ns;
	struct mem_cgroup *memcg;
	struct ovz_ve *ve, *other;
	struct pid *pid;
	int err;

	err = ovz_resolve_init(arg->pidfd, &pid, &task);
	if (err)
		return err;
	ns = ns_of_pid(pid);
	/* The host is no VE: every reader would be "in" it. */
	if (!ns || ns == &init_pid_ns) {
		err = -EINVAL;
		goto out_task;
	}
	memcg = ovz_resolve_memcg(arg->cgroup_fd, task);
	if (IS_ERR(memcg)) {
		err = PTR_ERR(memcg);
		goto out_task;
	}
	ve = ovz_alloc(sizeof(*ve));
	if (!ve) {
		err = -ENOMEM;
		goto out_memcg;
	}
	kref_init(&ve->ref);
	spin_lock_init(&ve->lock);
	ve->ns = get_pid_ns(ns);
	ve->init_pid = pid;
	ve->memcg = memcg;
	ve->start_boottime = task->start_boottime;
	strscpy(ve->name, arg->name, sizeof(ve->name));
	ovz_ve_apply(ve, arg);
	ovz_sample_init(ve);
	put_task_struct(task);

	mutex_lock(&ovz_registry_lock);
	list_for_each_entry(other, &ovz_registry, node) {
		if (other->ns == ns) {
			mutex_unlock(&ovz_registry_lock);
			ovz_ve_put(ve);
			return -EEXIST;
		}
	}
	list_add_tail(&ve->node, &ovz_registry);
	ovz_sampler_kick();
	mutex_unlock(&ovz_registry_lock);
	*out = ve;
	return 0;

out_memcg:
	css_put(&memcg->css);
out_task:
	put_task_struct(task);
	put_pid(pid);
	return err;
}

/* Unregisters @ve and drops the registration's reference. */
void ovz_ve_remove(struct ovz_ve *ve)
{
	mutex_lock(&ovz_registry_lock);
	list_del(&ve->node);
	mutex_unlock(&ovz_registry_lock);
	ovz_ve_put(ve);
}

/*
 * The VE the calling task is in: the innermost registered PID namespace
 * among its own and its ancestors (a VE may nest namespaces of its own).
 * Returns a reference, or NULL for a reader outside every VE.
 */
struct ovz_ve *ovz_ve_of_current(void)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ovz_ve *ve;

	if (!ns || ns == &init_pid_ns)
		return NULL;
	mutex_lock(&ovz_registry_lock);
	for (; ns; ns = ns->parent) {
		list_for_each_entry(ve, &ovz_registry, node) {
			if (ve->ns == ns) {
				kref_get(&ve->ref);
				mutex_unlock(&ovz_registry_lock);
				return ve;
			}
		}
	}
	mutex_unlock(&ovz_registry_lock);
	return NULL;
}

unsigned int ovz_registry_count(void)
{
	struct ovz_ve *ve;
	unsigned int n = 0;

	lockdep_assert_held(&ovz_registry_lock);
	list_for_each_entry(ve, &ovz_registry, node)
		n++;
	return n;
}

int ovz_registry_init(void)
{
	return 0;
}

void ovz_registry_exit(void)
{
	ovz_sampler_stop();
}
