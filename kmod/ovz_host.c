// SPDX-License-Identifier: GPL-2.0
/*
 * ovz_host.c: the host's own /proc files, read from a private proc mount.
 *
 * Readers outside every VE see the host's content, and the VE views of
 * cpuinfo and stat are the host's filtered to the VE's CPUs. Re-rendering
 * these from exported symbols alone is impossible (si_swapinfo and the
 * per-arch cpuinfo helpers are not exported), so the module reads the
 * kernel's own rendering with kernel_read(). It opens them in a proc
 * instance it mounted itself (kern_mount) rather than by path from the
 * reader's root: that root may have ovzproc bound over /proc, which would
 * loop back here.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/seq_file.h>

#include "ovz.h"

#define OVZ_HOST_MAX (8 << 20)	/* /proc/stat of a big machine fits */

static struct vfsmount *ovz_proc_mnt;

int ovz_host_init(void)
{
	struct file_system_type *proc = get_fs_type("proc");

	if (!proc)
		return -ENODEV;
	ovz_proc_mnt = kern_mount(proc);
	module_put(proc->owner);	/* put_filesystem() is not exported */
	if (IS_ERR(ovz_proc_mnt)) {
		int err = PTR_ERR(ovz_proc_mnt);

		ovz_proc_mnt = NULL;
		return err;
	}
	return 0;
}

void ovz_host_exit(void)
{
	if (ovz_proc_mnt)
		kern_unmount(ovz_proc_mnt);
	ovz_proc_mnt = NULL;
}

/*
 * The whole of the host's /proc/@name, NUL-terminated, or an ERR_PTR.
 * -EOPNOTSUPP for a file kernel_read() cannot read (one with a plain
 * ->read, such as /proc/swaps in 6.1): asking would only log a warning.
 */
char *ovz_host_read(const char *name, size_t *lenp)
{
	size_t len = 0, cap = PAGE_SIZE * 4;
	struct file *f;
	char *buf;
	loff_t pos = 0;

	f = file_open_root_mnt(ovz_proc_mnt, name, O_RDONLY, 0);
	if (IS_ERR(f))
		return ERR_CAST(f);
	if (!f->f_op->read_iter || f->f_op->read) {
		fput(f);
		return ERR_PTR(-EOPNOTSUPP);
	}
	buf = ovz_alloc(cap);
	while (buf) {
		ssize_t n = kernel_read(f, buf + len, cap - len - 1, &pos);

		if (n < 0) {
			ovz_free(buf);
			buf = ERR_PTR(n);
			break;
		}
		if (n == 0)
			break;
		len += n;
		if (cap - len - 1 == 0) {
			char *bigger = NULL;

			if (cap < OVZ_HOST_MAX)
				bigger = ovz_alloc(cap * 2);
			if (!bigger) {
				ovz_free(buf);
				buf = ERR_PTR(-EFBIG);
				break;
			}
			memcpy(bigger, buf, len);
			ovz_free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	fput(f);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (!IS_ERR(buf)) {
		buf[len] = '\0';
		*lenp = len;
	}
	return buf;
}

/* Copies the host's /proc/@name into @m. */
int ovz_host_copy(struct seq_file *m, const char *name)
{
	size_t len;
	char *buf = ovz_host_read(name, &len);

	if (IS_ERR(buf))
		return PTR_ERR(buf);
	seq_write(m, buf, len);
	ovz_free(buf);
	return 0;
}
