// SPDX-License-Identifier: GPL-2.0
/*
 * ovz_main.c: the ovz module's entry points and its allocation count.
 *
 * The module gives OpenVZ-style Virtual Environments (a PID namespace plus a
 * cgroup, registered by libovz through /dev/ovz) their own view of /proc
 * (the ovzproc filesystem) and a snapshot of their counters.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/mm.h>

#include "ovz.h"

/*
 * Every object the module allocates is counted, so a test can see that
 * register/read/unregister cycles leak nothing: /sys/module/ovz/parameters/
 * allocations must read 0 once every /dev/ovz file is closed and no ovzproc
 * file is open.
 */
static atomic_long_t ovz_allocations = ATOMIC_LONG_INIT(0);

void *ovz_alloc(size_t size)
{
	void *p = kvzalloc(size, GFP_KERNEL);

	if (p)
		atomic_long_inc(&ovz_allocations);
	return p;
}

void ovz_free(const void *p)
{
	if (!p)
		return;
	kvfree(p);
	atomic_long_dec(&ovz_allocations);
}

static int allocations_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ovz_allocations));
}

static const struct kernel_param_ops allocations_ops = {
	.get = allocations_get,
};
module_param_cb(allocations, &allocations_ops, NULL, 0444);
MODULE_PARM_DESC(allocations, "objects the module holds now (0 when idle)");

static int __init ovz_init(void)
{
	int err;

	err = ovz_registry_init();
	if (err)
		return err;
	err = ovz_host_init();
	if (err)
		goto out_registry;
	err = ovz_procfs_init();
	if (err)
		goto out_host;
	/* Last: once /dev/ovz exists, libovz may register at once. */
	err = ovz_dev_init();
	if (err)
		goto out_procfs;
	pr_info("ovz: ABI %u.%u, /dev/ovz and the %s filesystem\n",
		OVZ_KMOD_ABI_MAJOR, OVZ_KMOD_ABI_MINOR, OVZ_KMOD_FSTYPE);
	return 0;

out_procfs:
	ovz_procfs_exit();
out_host:
	ovz_host_exit();
out_registry:
	ovz_registry_exit();
	return err;
}

static void __exit ovz_exit(void)
{
	/*
	 * fops.owner and fs_type.owner pin the module while a /dev/ovz file
	 * is open or ovzproc is mounted, so nothing is registered and no
	 * reader is inside the module by now.
	 */
	ovz_dev_exit();
	ovz_procfs_exit();
	ovz_host_exit();
	ovz_registry_exit();
	WARN_ON(atomic_long_read(&ovz_allocations) != 0);
}

module_init(ovz_init);
module_exit(ovz_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("OpenVZ-style VE counters and per-VE /proc files for libovz");
MODULE_AUTHOR("libovz");
MODULE_VERSION("1.0");
