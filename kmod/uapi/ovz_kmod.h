/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ovz_kmod.h: the user-space ABI of the ovz kernel module (/dev/ovz and the
 * ovzproc filesystem). libovz includes this exact file; it is C, usable from
 * C++, and needs only <linux/types.h> and <linux/ioctl.h>.
 *
 * Versioning: OVZ_KMOD_ABI_MAJOR changes only when an existing field or ioctl
 * changes meaning; the library refuses a module of another major. MINOR grows
 * when fields, ioctls or feature bits are added. Every struct starts with its
 * size and may grow at its end (see below).
 */
#ifndef OVZ_KMOD_H
#define OVZ_KMOD_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define OVZ_KMOD_DEVICE "/dev/ovz"
#define OVZ_KMOD_FSTYPE "ovzproc"
#define OVZ_KMOD_ABI_MAJOR 1
#define OVZ_KMOD_ABI_MINOR 1
#define OVZ_KMOD_F_SNAPSHOT (1ULL << 0) /* read() returns a snapshot */
#define OVZ_KMOD_F_POLL     (1ULL << 1) /* poll() wakes on a failcnt change */
#define OVZ_KMOD_F_PROCFS   (1ULL << 2) /* the ovzproc filesystem */
#define OVZ_KMOD_NAME_MAX 64
#define OVZ_KMOD_UBC_COUNT 21           /* /proc/user_beancounters' resources, in its order:
   kmemsize lockedpages privvmpages shmpages numproc physpages vmguarpages oomguarpages numtcpsock
   numflock numpty numsiginfo tcpsndbuf tcprcvbuf othersockbuf dgramrcvbuf numothersock dcachesize
   numfile numiptent swappages */
#define OVZ_KMOD_UNLIMITED 9223372036854775807ULL

/* Indexes into ubc[] (the order above), for readability on both sides. */
enum ovz_kmod_ubc {
	OVZ_UBC_KMEMSIZE, OVZ_UBC_LOCKEDPAGES, OVZ_UBC_PRIVVMPAGES,
	OVZ_UBC_SHMPAGES, OVZ_UBC_NUMPROC, OVZ_UBC_PHYSPAGES,
	OVZ_UBC_VMGUARPAGES, OVZ_UBC_OOMGUARPAGES, OVZ_UBC_NUMTCPSOCK,
	OVZ_UBC_NUMFLOCK, OVZ_UBC_NUMPTY, OVZ_UBC_NUMSIGINFO,
	OVZ_UBC_TCPSNDBUF, OVZ_UBC_TCPRCVBUF, OVZ_UBC_OTHERSOCKBUF,
	OVZ_UBC_DGRAMRCVBUF, OVZ_UBC_NUMOTHERSOCK, OVZ_UBC_DCACHESIZE,
	OVZ_UBC_NUMFILE, OVZ_UBC_NUMIPTENT, OVZ_UBC_SWAPPAGES,
};

/*
 * Every struct starts with its size; the module accepts a smaller (older) or
 * larger (newer) struct as openat2/clone3 do (copy_struct_from_user: unknown
 * trailing bytes must be zero, else E2BIG), and fills at most the caller's
 * size on output. A size below the first version's (the *_SIZE_VER0 below) is
 * EINVAL, one above 4096 is E2BIG.
 */
struct ovz_kmod_version {
	__u32 size;      /* in: the caller's size; out: the bytes filled */
	__u32 major;
	__u32 minor;
	__u32 reserved;
	__u64 features;  /* OVZ_KMOD_F_* */
};
#define OVZ_KMOD_VERSION_SIZE_VER0 24

struct ovz_kmod_ve {
	__u32 size;
	__s32 pidfd;      /* pidfd of the VE's init: its PID namespace identifies the VE */
	__s32 cgroup_fd;  /* O_DIRECTORY fd of the VE's cgroup; -1 to take the init's memory cgroup */
	__u32 flags;      /* 0; anything else: EINVAL */
	__u32 cpus;       /* CPUs the VE sees; 0 = as its cpuset/affinity says */
	__u32 reserved;   /* 0 */
	char name[OVZ_KMOD_NAME_MAX];  /* the CTID as text, NUL-terminated, non-empty */
	__u64 ubc[OVZ_KMOD_UBC_COUNT][2];  /* barrier, limit per resource, in OpenVZ units (pages for *pages) */
};
#define OVZ_KMOD_VE_SIZE_VER0 424

/* Per registered VE in a snapshot. Memory in bytes. */
struct ovz_kmod_counters {
	__u32 size;              /* sizeof as the module fills it */
	__u32 reserved;
	char name[OVZ_KMOD_NAME_MAX];
	__u64 memory_usage, memory_peak, memory_limit, memory_failcnt; /* memcg page counter (failcnt: hits of the limit) */
	__u64 swap_usage, swap_limit, swap_failcnt;
	__u64 kmem_usage;        /* 0 if the kernel does not account it apart */
	__u64 numproc, numproc_failcnt;  /* tasks (threads) in the VE's PID namespace; failcnt: forks refused (0 if unknown) */
	__u64 start_boottime_ns; /* when its init started, CLOCK_BOOTTIME */
	__u64 loadavg[3];        /* fixed point, FSHIFT = 11, as the kernel's avenrun */
};
struct ovz_kmod_snapshot_header {
	__u32 size;         /* sizeof(struct ovz_kmod_snapshot_header) */
	__u32 record_size;  /* sizeof(struct ovz_kmod_counters) as filled */
	__u32 count;        /* registered VEs now (may exceed the records that fit) */
	__u32 returned;     /* records that follow */
	__u64 generation;   /* grows on every failcnt change seen (what poll() waits on) */
};

/*
 * 0xB7 is taken twice in Documentation/userspace-api/ioctl/ioctl-number.rst
 * (nsfs.h, whose NS_GET_USERNS is exactly _IO(0xB7, 1), and
 * remoteproc_cdev.h); so are 0xB8 (mshv, mrvl_cn10k_dpi), 0xBA (liveupdate)
 * and 0xBF (mlxbf-pka) in later kernels. 0xBB is free in 6.1 through 6.18.
 * _IO: the size travels in each struct's first field, not in the number.
 */
#define OVZ_KMOD_IOC_MAGIC 0xBB
#define OVZ_KMOD_IOC_VERSION    _IO(OVZ_KMOD_IOC_MAGIC, 1)  /* arg: struct ovz_kmod_version * */
#define OVZ_KMOD_IOC_REGISTER   _IO(OVZ_KMOD_IOC_MAGIC, 2)  /* arg: struct ovz_kmod_ve * */
/* UPDATE changes cpus and ubc: of the file's own VE (same pidfd), or, on a file
   that registered none, of the VE whose init the pidfd names (ABI 1.1; ENOENT
   when no file registered it). */
#define OVZ_KMOD_IOC_UPDATE     _IO(OVZ_KMOD_IOC_MAGIC, 3)  /* arg: struct ovz_kmod_ve * */
#define OVZ_KMOD_IOC_UNREGISTER _IO(OVZ_KMOD_IOC_MAGIC, 4)  /* no arg */

#endif /* OVZ_KMOD_H */
