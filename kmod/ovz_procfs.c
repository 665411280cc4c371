// SPDX-License-Identifier: GPL-2.0
/*
 * ovz_procfs.c: the ovzproc filesystem and /proc/user_beancounters.
 * `mount -t ovzproc none DIR` shows the files below; libovz binds each over
 * the VE's /proc/<name>. Every read renders for the reader: the VE it is in,
 * else the host.
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "ovz.h"

#define OVZPROC_MAGIC 0x6f767a70	/* "ovzp" */

typedef int (*ovz_render_fn)(struct seq_file *m, struct ovz_ve *ve);

static int ovz_render_nothing(struct seq_file *m, struct ovz_ve *ve)
{
	return 0;
}

/* The host's view: its /proc file, or the registry for user_beancounters. */
static int ovz_show(struct seq_file *m, ovz_render_fn render,
		    const char *host_file)
{
	struct ovz_ve *ve = ovz_ve_of_current();
	int err;

	if (ve) {
		err = render(m, ve);
		ovz_ve_put(ve);
		return err;
	}
	if (!host_file)
		return ovz_render_ubc_all(m);
	err = ovz_host_copy(m, host_file);
	if (err == -EOPNOTSUPP && !strcmp(host_file, "swaps")) {
		/* 6.1's /proc/swaps cannot be kernel_read(): its header */
		seq_puts(m, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
		err = 0;
	}
	return err;
}

#define OVZ_FILE(name, render, host_file)				\
static int ovz_##name##_show(struct seq_file *m, void *v)		\
{									\
	return ovz_show(m, render, host_file);				\
}									\
static int ovz_##name##_open(struct inode *inode, struct file *f)	\
{									\
	return single_open(f, ovz_##name##_show, NULL);			\
}									\
static const struct file_operations ovz_##name##_fops = {		\
	.owner = THIS_MODULE,						\
	.open = ovz_##name##_open,					\
	.read_iter = seq_read_iter,					\
	.llseek = seq_lseek,						\
	.release = single_release,					\
}

OVZ_FILE(meminfo, ovz_render_meminfo, "meminfo");
OVZ_FILE(cpuinfo, ovz_render_cpuinfo, "cpuinfo");
OVZ_FILE(stat, ovz_render_stat, "stat");
OVZ_FILE(loadavg, ovz_render_loadavg, "loadavg");
OVZ_FILE(uptime, ovz_render_uptime, "uptime");
OVZ_FILE(diskstats, ovz_render_nothing, "diskstats");
OVZ_FILE(swaps, ovz_render_swaps, "swaps");
OVZ_FILE(ubc, ovz_render_ubc, NULL);

static int ovz_fill_super(struct super_block *sb, struct fs_context *fc)
{
	/* simple_fill_super() numbers inodes from the index; 0, 1 unused. */
	static const struct tree_descr files[] = {
		[2] = { "meminfo", &ovz_meminfo_fops, 0444 },
		[3] = { "cpuinfo", &ovz_cpuinfo_fops, 0444 },
		[4] = { "stat", &ovz_stat_fops, 0444 },
		[5] = { "loadavg", &ovz_loadavg_fops, 0444 },
		[6] = { "uptime", &ovz_uptime_fops, 0444 },
		[7] = { "diskstats", &ovz_diskstats_fops, 0444 },
		[8] = { "swaps", &ovz_swaps_fops, 0444 },
		[9] = { "user_beancounters", &ovz_ubc_fops, 0444 },
		{ "" },
	};
	int err = simple_fill_super(sb, OVZPROC_MAGIC, files);

	if (!err)
		sb->s_iflags |= SB_I_NOEXEC | SB_I_NODEV;
	return err;
}

static int ovz_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, ovz_fill_super);
}

static const struct fs_context_operations ovz_context_ops = {
	.get_tree = ovz_get_tree,
};

static int ovz_init_fs_context(struct fs_context *fc)
{
	fc->ops = &ovz_context_ops;
	return 0;
}

/* .owner pins the module while any ovzproc is mounted. */
static struct file_system_type ovz_fs_type = {
	.owner = THIS_MODULE,
	.name = OVZ_KMOD_FSTYPE,
	.init_fs_context = ovz_init_fs_context,
	.kill_sb = kill_litter_super,
};

/*
 * /proc/user_beancounters, as OpenVZ's kernel had it: a procfs entry is in
 * every procfs mount, so each VE's own /proc has it without a bind (a bind
 * needs a file to cover). It renders as the ovzproc file does: the reader's
 * VE, or every registered VE for the host. 0444: root of a VE in a user
 * namespace is not the entry's owner. remove_proc_entry() waits for readers
 * in flight, so it pins nothing.
 */
int ovz_procfs_init(void)
{
	int err;

	if (!proc_create_single("user_beancounters", 0444, NULL, ovz_ubc_show))
		return -ENOMEM;
	err = register_filesystem(&ovz_fs_type);
	if (err)
		remove_proc_entry("user_beancounters", NULL);
	return err;
}

void ovz_procfs_exit(void)
{
	unregister_filesystem(&ovz_fs_type);
	remove_proc_entry("user_beancounters", NULL);
}
