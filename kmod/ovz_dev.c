// SPDX-License-Identifier: GPL-2.0
/*
 * ovz_dev.c: /dev/ovz. ioctl()s register the VE of an open file, read()
 * returns a snapshot of every VE's counters, poll() waits for failcnts.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "ovz.h"

/* One per open file: its registration, and the generation it last read. */
struct ovz_file {
	struct mutex lock;
	struct ovz_ve *ve;
	u64 seen;
};

#define OVZ_NEVER_READ U64_MAX

static int ovz_open(struct inode *inode, struct file *file)
{
	struct ovz_file *of = ovz_alloc(sizeof(*of));

	if (!of)
		return -ENOMEM;
	mutex_init(&of->lock);
	of->seen = OVZ_NEVER_READ;
	file->private_data = of;
	return 0;
}

static int ovz_release(struct inode *inode, struct file *file)
{
	struct ovz_file *of = file->private_data;

	if (of->ve)
		ovz_ve_remove(of->ve);
	mutex_destroy(&of->lock);
	ovz_free(of);
	return 0;
}

/* The size a struct claims (its first field), checked against our bounds. */
static int ovz_user_size(const void __user *arg, u32 min_size, u32 *size)
{
	if (get_user(*size, (const u32 __user *)arg))
		return -EFAULT;
	if (*size < min_size)
		return -EINVAL;
	if (*size > PAGE_SIZE)
		return -E2BIG;
	return 0;
}

static long ovz_ioc_version(void __user *arg)
{
	struct ovz_kmod_version v = {
		.major = OVZ_KMOD_ABI_MAJOR,
		.minor = OVZ_KMOD_ABI_MINOR,
		.features = OVZ_KMOD_F_SNAPSHOT | OVZ_KMOD_F_POLL |
			    OVZ_KMOD_F_PROCFS,
	};
	u32 usize;
	int err;

	BUILD_BUG_ON(sizeof(v) != OVZ_KMOD_VERSION_SIZE_VER0);
	err = ovz_user_size(arg, OVZ_KMOD_VERSION_SIZE_VER0, &usize);
	if (err)
		return err;
	v.size = min_t(u32, usize, sizeof(v));
	return copy_to_user(arg, &v, v.size) ? -EFAULT : 0;
}

/* REGISTER's and UPDATE's argument: root's only, checked before it is read. */
static int ovz_copy_ve(struct ovz_kmod_ve *k, const void __user *arg)
{
	u32 usize;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	BUILD_BUG_ON(sizeof(*k) != OVZ_KMOD_VE_SIZE_VER0);
	err = ovz_user_size(arg, OVZ_KMOD_VE_SIZE_VER0, &usize);
	if (err)
		return err;
	err = copy_struct_from_user(k, sizeof(*k), arg, usize);
	if (err)
		return err;
	return ovz_check_ve_arg(k);
}

static long ovz_ioc_register(struct ovz_file *of, const void __user *arg)
{
	struct ovz_kmod_ve k;
	struct ovz_ve *ve;
	int err;

	err = ovz_copy_ve(&k, arg);
	if (err)
		return err;
	mutex_lock(&of->lock);
	if (of->ve) {
		err = -EBUSY;
	} else {
		err = ovz_ve_create(&k, &ve);
		if (!err)
			of->ve = ve;
	}
	mutex_unlock(&of->lock);
	return err;
}

static long ovz_ioc_update(struct ovz_file *of, const void __user *arg)
{
	struct ovz_kmod_ve k;
	struct ovz_ve *ve;
	int err;

	err = ovz_copy_ve(&k, arg);
	if (err)
		return err;
	mutex_lock(&of->lock);
	if (of->ve) {
		err = ovz_ve_check_same(of->ve, k.pidfd);
		if (!err)
			ovz_ve_apply(of->ve, &k);
		mutex_unlock(&of->lock);
		return err;
	}
	mutex_unlock(&of->lock);
	/* A file without a VE of its own names one by its init (ABI 1.1). */
	ve = ovz_ve_of_pidfd(k.pidfd);
	if (IS_ERR(ve))
		return PTR_ERR(ve);
	ovz_ve_apply(ve, &k);
	ovz_ve_put(ve);
	return 0;
}

static long ovz_ioc_unregister(struct ovz_file *of)
{
	int err = 0;

	mutex_lock(&of->lock);
	if (of->ve)
		ovz_ve_remove(of->ve);
	else
		err = -ENOENT;
	of->ve = NULL;
	mutex_unlock(&of->lock);
	return err;
}

static long ovz_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ovz_file *of = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case OVZ_KMOD_IOC_VERSION:
		return ovz_ioc_version(uarg);
	case OVZ_KMOD_IOC_REGISTER:
		return ovz_ioc_register(of, uarg);
	case OVZ_KMOD_IOC_UPDATE:
		return ovz_ioc_update(of, uarg);
	case OVZ_KMOD_IOC_UNREGISTER:
		/* no argument: glibc passes whatever is in the register */
		return ovz_ioc_unregister(of);
	default:
		return -ENOTTY;
	}
}

/*
 * A header and as many whole records as fit. Each read at offset 0 takes a
 * new snapshot (pread(fd, buf, n, 0)); read() moves the offset past it, so
 * the next read() is at EOF and cat(1) ends.
 */
static ssize_t ovz_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct ovz_file *of = file->private_data;
	struct ovz_kmod_snapshot_header h = {
		.size = sizeof(h),
		.record_size = sizeof(struct ovz_kmod_counters),
	};
	struct ovz_kmod_counters *recs = NULL;
	size_t room, bytes;
	struct ovz_ve *ve;
	unsigned int i = 0;

	if (*ppos != 0)
		return 0;
	if (count < sizeof(h))
		return -EINVAL;
	room = (count - sizeof(h)) / sizeof(*recs);

	mutex_lock(&ovz_registry_lock);
	h.count = ovz_registry_count();
	h.returned = min_t(size_t, room, h.count);
	if (h.returned) {
		recs = ovz_alloc(h.returned * sizeof(*recs));
		if (!recs) {
			mutex_unlock(&ovz_registry_lock);
			return -ENOMEM;
		}
	}
	list_for_each_entry(ve, &ovz_registry, node) {
		if (i == h.returned)
			break;
		ovz_fill_counters(ve, &recs[i++]);
	}
	h.generation = atomic64_read(&ovz_generation);
	mutex_unlock(&ovz_registry_lock);

	bytes = h.returned * sizeof(*recs);
	if (copy_to_user(buf, &h, sizeof(h)) ||
	    (bytes && copy_to_user(buf + sizeof(h), recs, bytes))) {
		ovz_free(recs);
		return -EFAULT;
	}
	ovz_free(recs);
	WRITE_ONCE(of->seen, h.generation);
	*ppos += sizeof(h) + bytes;
	return sizeof(h) + bytes;
}

/* Readable once the generation moved past what this file last read. */
static __poll_t ovz_poll(struct file *file, poll_table *wait)
{
	struct ovz_file *of = file->private_data;

	poll_wait(file, &ovz_wait, wait);
	if (READ_ONCE(of->seen) != (u64)atomic64_read(&ovz_generation))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

/* .owner pins the module while any /dev/ovz file is open. */
static const struct file_operations ovz_fops = {
	.owner = THIS_MODULE,
	.open = ovz_open,
	.release = ovz_release,
	.read = ovz_read,
	.poll = ovz_poll,
	.unlocked_ioctl = ovz_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};

static struct miscdevice ovz_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ovz",
	.fops = &ovz_fops,
	.mode = 0600,
};

int ovz_dev_init(void)
{
	return misc_register(&ovz_misc);
}

void ovz_dev_exit(void)
{
	misc_deregister(&ovz_misc);
}
