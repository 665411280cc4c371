/* libovz's C ABI: OpenVZ-style Virtual Environments (VEs) for C and for every language with a
 * C foreign-function interface. Link with -lovzc.
 *
 * Conventions:
 * - Handles are opaque (ovz_ve_t); each ovz_*_free(NULL) is a no-op.
 * - Every fallible call returns 0 or a negative OVZ_E* code, and sets the calling thread's
 *   last error (ovz_error_last()); a call that succeeds clears it.
 * - Options structs start with `size_t size`; initialise them with their *_INIT macro. The
 *   library reads only the fields `size` covers, so a program built against an older ovz.h
 *   keeps working with a newer library. Bytes past the fields this library knows must be zero
 *   (else OVZ_EUNSUPPORTED): a newer program asking for something this library cannot do is
 *   told so instead of being ignored.
 * - Strings the library returns through `char **` are malloc'd; free them with
 *   ovz_string_free().
 * - Structs the library fills (ovz_ve_status_t, ovz_ubc_stat, ovz_cpu_params, ovz_disk_quota)
 *   are passed with `sizeof` of the caller's struct: the library writes only the fields that
 *   size holds, so fields added later never overrun an older program's struct. Calls without
 *   a size (ovz_ve_status, ovz_ve_list, ovz_ve_get_stats) fill the structs as libovz 0.1 had
 *   them.
 */
#ifndef OVZ_H
#define OVZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of libovz this header belongs to; ovz_version() says which library runs. The
 * library keeps the calls and struct fields of every 0.x header with this MAJOR: later ones
 * only add. */
#define OVZ_VERSION_MAJOR 0
#define OVZ_VERSION_MINOR 1
#define OVZ_VERSION_PATCH 0

/* Error codes: the negated values of ovz::errc, then the ones only the C boundary has. */
typedef enum ovz_errc {
  OVZ_OK = 0,
  OVZ_EINVAL = -1,       /* bad CTID, bad parameter value, NULL where a value is needed */
  OVZ_ENOTFOUND = -2,    /* the VE, template or file does not exist */
  OVZ_EEXIST = -3,       /* creating what is already there */
  OVZ_ERUNNING = -4,     /* the VE is running and the operation needs it stopped */
  OVZ_ENOTRUNNING = -5,  /* the VE is stopped and the operation needs it running */
  OVZ_ELOCKED = -6,      /* another operation holds the VE's lock */
  OVZ_EBADCONFIG = -7,   /* a CTID.conf line or value cannot be parsed */
  OVZ_EUNSUPPORTED = -8, /* this kernel or host (or this library version) cannot do it */
  OVZ_ETIMEDOUT = -9,    /* a wait ran past its limit */
  OVZ_ECHILD = -10,      /* a helper process or command outside the library failed */
  OVZ_ESYSTEM = -11,     /* the kernel refused: see ovz_error.sys_errno */
  OVZ_ENOMEM = -12,      /* out of memory */
  OVZ_EINTERNAL = -13,   /* a bug: an unexpected exception stopped at the C boundary */
  OVZ_ESUSPENDED = -14,  /* the VE is suspended and the operation needs it to run */
  OVZ_EPEER = -15,       /* the other end of a migration stream refused, failed or went away */
  OVZ_EINDOUBT = -16     /* a migration's last answer never came: the VE is held here, may run there */
} ovz_errc;

/* The last error of the calling thread. */
typedef struct ovz_error {
  int code;            /* an ovz_errc; 0 after a call that succeeded */
  int sys_errno;       /* the errno when code is OVZ_ESYSTEM, else 0 */
  const char *message; /* what failed and why, naming the VE, path and call; "" when none */
} ovz_error;

/* Never NULL. Valid until the next ovz_* call on the same thread. */
const ovz_error *ovz_error_last(void);

/* The running library's version, "MAJOR.MINOR.PATCH". */
const char *ovz_version(void);

/* 1 when this host offers the feature, 0 when not or when the name is unknown. Names:
 * "cgroup2", "cgroup1" (the cgroup hierarchy VEs use), "systemd" (VEs' cgroups are delegated
 * scopes of the host's systemd, on cgroup v2 hosts it boots), "userns" (user namespaces),
 * "criu" (the criu binary is on PATH), "quota" (the kernel keeps disk quota: soft limits and
 * QUOTATIME of VEs created here hold), "checkpoint" (CRIU's own check of this kernel
 * passed: see ovz_checkpoint_supported), "kmod" (the ovz kernel module is loaded and speaks
 * this library's ABI), "timens" (time namespaces: each VE's uptime is its own). */
int ovz_has_feature(const char *name);

/* What serves a view a VE has of itself on this host: `view` "uptime" ("ovz module", "time
 * namespace", "LXCFS" or "host"), "proc" (meminfo, cpuinfo, stat, loadavg, swaps: "ovz
 * module", "LXCFS" where the host runs it, or "host") or "beancounters" ("cgroup files").
 * Static storage; NULL for an unknown view. */
const char *ovz_view_backend(const char *view);

/* Tunes the host's kernel for VEs that come and go, once per boot (cgroup2's favordynmods:
 * moving a new process into a cgroup, as every VE start does, then skips an RCU grace period
 * of 5-15 ms; see ovz::tune_host). *changed, when not NULL, is 1 when something changed, 0
 * when the host was tuned already. OVZ_EUNSUPPORTED on a kernel without it (before 6.0). */
int ovz_tune_host(int *changed);

/* The same features as bits of one mask, as libgit2's git_libgit2_features(). */
#define OVZ_FEATURE_CGROUP2 (1u << 0)
#define OVZ_FEATURE_CGROUP1 (1u << 1)
#define OVZ_FEATURE_USERNS (1u << 2)
#define OVZ_FEATURE_CRIU (1u << 3)
#define OVZ_FEATURE_KMOD (1u << 4)
#define OVZ_FEATURE_QUOTA (1u << 5)
#define OVZ_FEATURE_SYSTEMD (1u << 6)
#define OVZ_FEATURE_CHECKPOINT (1u << 7)
#define OVZ_FEATURE_TIMENS (1u << 8)
unsigned ovz_features(void);

/* The log channel: what the library goes on past and cannot return as an error (a clean-up
 * or rollback that could not finish, a fallback taken). */
typedef enum ovz_log_level {
  OVZ_LOG_DEBUG = 0,
  OVZ_LOG_INFO = 1,
  OVZ_LOG_WARNING = 2,
  OVZ_LOG_ERROR = 3
} ovz_log_level;

/* Receives one message (naming the VE, path and call; valid only during the call). It may be
 * called from any thread that runs library code, from several at once. */
typedef void (*ovz_log_fn)(ovz_log_level level, const char *message, void *userdata);

/* Replaces the process-wide handler; `userdata` is passed to every call. NULL restores the
 * default, which writes warnings and errors to stderr ("libovz: warning: ...") and drops the
 * rest. Thread-safe; a message in flight may still reach the previous handler, so keep its
 * userdata valid until the calls that may be using it have returned. */
void ovz_set_log_handler(ovz_log_fn handler, void *userdata);

/* Frees a string returned by the library. */
void ovz_string_free(char *s);

/* A handle to one VE under a state root: its CTID and paths. The VE's state lives in the
 * kernel and the state root, so several handles (or processes) see the same VE. */
typedef struct ovz_ve ovz_ve_t;

/* Makes a handle for VE `ctid` (1 ... 2^31-1) under `root`; NULL or "" means $OVZ_ROOT, else
 * /var/lib/ovz. The VE need not exist. */
int ovz_ve_open(ovz_ve_t **out, unsigned ctid, const char *root);
void ovz_ve_free(ovz_ve_t *ve);
/* The CTID of the handle; 0 for NULL. */
unsigned ovz_ve_ctid(const ovz_ve_t *ve);

typedef struct ovz_create_options {
  size_t size;
  const char *ostemplate; /* NULL or "": the built-in "busybox" */
  const char *hostname;   /* NULL or "": "ct<CTID>" */
  /* Non-zero: an unprivileged VE in a user namespace of its own, its root a free range of
   * host ids (CTID.conf USERNS_MAP) for its whole life. Starting it needs idmapped mounts. */
  int userns;
  /* The limits sample (CTID.conf's start, vzctl create --config): NULL or "": "basic";
   * shipped: "basic", "light", "unlimited"; a state root's conf/ve-NAME.conf-sample wins. */
  const char *config;
  /* vzctl create --diskspace, --diskinodes, --quotatime, --quotaugidlimit, each NULL or ""
   * for unset, else valued as ovz_ve_set_param() takes them. With a diskspace the VE keeps its
   * files in an ext4 image of its own of the hard size, which holds it on any kernel (see
   * ovz_ve_quota); without one, in a directory of the host's filesystem, unlimited. */
  const char *diskspace;
  const char *diskinodes;
  const char *quotatime;
  const char *quotaugidlimit;
} ovz_create_options;
#define OVZ_CREATE_OPTIONS_INIT \
  {sizeof(ovz_create_options), NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL}

/* ovz_stop_options.timeout_ms: CTID.conf's STOP_TIMEOUT (seconds), else 10 s. */
#define OVZ_STOP_TIMEOUT_CONFIG 0xffffffffu

/* A stop asks the VE's init to shut down the way it understands (systemd: SIGRTMIN+3;
 * sysvinit: runlevel 0 on /run/initctl; busybox init: SIGUSR2; others: SIGTERM), waits, then
 * kills whatever is left. */
typedef struct ovz_stop_options {
  size_t size;
  int fast;              /* non-zero: kill everything at once, without asking init */
  /* How long init may take to shut down once asked; OVZ_STOP_TIMEOUT_CONFIG: the VE's
   * STOP_TIMEOUT, else 10 s. */
  unsigned timeout_ms;
} ovz_stop_options;
#define OVZ_STOP_OPTIONS_INIT {sizeof(ovz_stop_options), 0, OVZ_STOP_TIMEOUT_CONFIG}

/* Makes the VE from a template; NULL options mean the defaults. */
int ovz_ve_create(ovz_ve_t *ve, const ovz_create_options *opts);
typedef struct ovz_start_options {
  size_t size;
  /* The VE's init as a NULL-terminated argv; NULL: the template's /sbin/init, as PID 1. */
  const char *const *init;
} ovz_start_options;
#define OVZ_START_OPTIONS_INIT {sizeof(ovz_start_options), NULL}

/* Starts the VE with the template's /sbin/init as PID 1. */
int ovz_ve_start(ovz_ve_t *ve);
/* Starts the VE as `opts` say; NULL options mean OVZ_START_OPTIONS_INIT. */
int ovz_ve_start_with(ovz_ve_t *ve, const ovz_start_options *opts);
/* Stops the VE; NULL options mean OVZ_STOP_OPTIONS_INIT. */
int ovz_ve_stop(ovz_ve_t *ve, const ovz_stop_options *opts);
/* Stops the VE when it runs (as ovz_ve_stop), then starts it. */
int ovz_ve_restart(ovz_ve_t *ve, const ovz_stop_options *opts);
/* As ovz_ve_restart, the start as `start` says; NULL options mean their defaults. */
int ovz_ve_restart_with(ovz_ve_t *ve, const ovz_stop_options *stop,
                        const ovz_start_options *start);
/* Removes a stopped VE: its private area and config. */
int ovz_ve_destroy(ovz_ve_t *ve);
/* Freezes every process of the running VE where it stands (vzctl suspend): it uses no CPU
 * and answers nothing until ovz_ve_resume(); its status says `suspended`, and ovz_ve_exec*,
 * ovz_ve_enter* and ovz_ve_set_user_password on it fail with OVZ_ESUSPENDED meanwhile;
 * ovz_ve_stop resumes it first. Fine on a suspended VE; OVZ_ENOTRUNNING on a stopped one. */
int ovz_ve_suspend(ovz_ve_t *ve);
/* Lets a suspended VE run on (vzctl resume); fine on a running VE that is not suspended. */
int ovz_ve_resume(ovz_ve_t *ve);

typedef enum ovz_ve_state {
  OVZ_STATE_ABSENT = 0,
  OVZ_STATE_STOPPED = 1,
  OVZ_STATE_RUNNING = 2
} ovz_ve_state;

/* Fixed-size text fields, so that a status (and a list of them) is one plain allocation.
 * Hostnames have at most 64 characters and template names the same; longer text read from a
 * hand-edited CTID.conf is cut to fit, always NUL-terminated. */
#define OVZ_NAME_MAX 256

/* What `vzctl status` and `vzlist` show of one VE. */
typedef struct ovz_ve_status {
  unsigned ctid;
  ovz_ve_state state;
  int mounted;  /* 1 when the root filesystem is mounted */
  int init_pid; /* host PID of the VE's init, 0 when not running */
  int nproc;    /* processes in the VE */
  char hostname[OVZ_NAME_MAX];
  char ostemplate[OVZ_NAME_MAX];
  /* 1 when running but frozen by ovz_ve_suspend(). Past libovz 0.1's struct: ovz_ve_status()
   * and ovz_ve_list() leave it out. */
  int suspended;
} ovz_ve_status_t;

/* The VE's status into `out`, whose first `size` bytes the caller has: pass
 * sizeof(ovz_ve_status_t). */
int ovz_ve_get_status(ovz_ve_t *ve, ovz_ve_status_t *out, size_t size);
/* ovz_ve_get_status() of libovz 0.1's ovz_ve_status_t. */
int ovz_ve_status(ovz_ve_t *ve, ovz_ve_status_t *out);

/* Every VE under a state root, by CTID, read once: count them with ovz_ves_count() and read
 * each with ovz_ves_at(). */
typedef struct ovz_ves ovz_ves_t;
/* The VEs under `root` (NULL: the default). */
int ovz_ves_open(ovz_ves_t **out, const char *root);
size_t ovz_ves_count(const ovz_ves_t *ves);
/* The status of the i-th VE (0 ... count-1) into `out` of `size` bytes, as
 * ovz_ve_get_status(); OVZ_EINVAL past the end. */
int ovz_ves_at(const ovz_ves_t *ves, size_t i, ovz_ve_status_t *out, size_t size);
void ovz_ves_free(ovz_ves_t *ves);

/* As ovz_ves_open(), as one array of libovz 0.1's ovz_ve_status_t to free with
 * ovz_ve_list_free(); *out is NULL when *count is 0. The array cannot grow with the struct:
 * new programs use ovz_ves_open(). */
int ovz_ve_list(const char *root, ovz_ve_status_t **out, size_t *count);
void ovz_ve_list_free(ovz_ve_status_t *list);

/* What ovz_exec_options.started calls: the command's PID and the caller's data. */
typedef void ovz_started_fn(pid_t pid, void *data);

typedef struct ovz_exec_options {
  size_t size;
  /* The command's environment, a NULL-terminated list of "NAME=value"; NULL: a minimal PATH,
   * HOME and TERM. */
  const char *const *env;
  const char *cwd; /* its working directory inside the VE; NULL or "": "/" */
  /* The caller's descriptors the command gets as its stdin, stdout and stderr. -1: stdin
   * reads /dev/null, stdout and stderr are captured (see ovz_ve_exec_with). */
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  /* Called once the command runs, with its PID as the caller sees it and `started_data`,
   * before the call waits for it: the caller may signal it meanwhile. The command leads a
   * session of its own inside the VE, so a terminal's Ctrl-C reaches only the caller, which
   * forwards it. NULL: not called. */
  ovz_started_fn *started;
  void *started_data;
} ovz_exec_options;
#define OVZ_EXEC_OPTIONS_INIT {sizeof(ovz_exec_options), NULL, NULL, 0, 1, 2, NULL, NULL}

/* Runs the NULL-terminated `argv` inside the running VE and waits for it. The command reads
 * and writes the caller's descriptors 0, 1 and 2. `exit_code` (may be NULL) gets its exit
 * status, 128+N when killed by signal N. A command that ran and failed is not an error: the
 * call returns 0 and the status says how it ended. */
int ovz_ve_exec(ovz_ve_t *ve, const char *const argv[], int *exit_code);
/* As ovz_ve_exec, with stdin from /dev/null and stdout/stderr captured into malloc'd strings
 * (free with ovz_string_free). `out` and `err` may be NULL to discard that stream. Output
 * holding NUL bytes reads as cut at the first one. */
int ovz_ve_exec_capture(ovz_ve_t *ve, const char *const argv[], int *exit_code, char **out,
                        char **err);
/* Runs `argv` as `opts` say (NULL: OVZ_EXEC_OPTIONS_INIT, as ovz_ve_exec): what stdout_fd or
 * stderr_fd -1 captures is malloc'd into *out or *err (each may be NULL to discard it; free
 * with ovz_string_free); a stream not captured leaves them untouched. `exit_code` as
 * ovz_ve_exec. */
int ovz_ve_exec_with(ovz_ve_t *ve, const char *const argv[], const ovz_exec_options *opts,
                     int *exit_code, char **out, char **err);

/* Starts the VE with the NULL-terminated `argv` as its init and waits for it to exit; the VE
 * is stopped again afterwards. `exit_code` (may be NULL) gets init's exit status. */
int ovz_ve_run(ovz_ve_t *ve, const char *const argv[], int *exit_code);

/* An interactive shell inside the running VE on a terminal of its own, relayed to the
 * caller's descriptors 0 (input) and 1 (output) until it exits; `exit_code` (may be NULL)
 * gets the shell's exit status. */
int ovz_ve_enter(ovz_ve_t *ve, int *exit_code);

typedef struct ovz_enter_options {
  size_t size;
  /* The shell as a NULL-terminated argv; NULL: /bin/bash when the VE has it, else /bin/sh. */
  const char *const *argv;
  int in_fd;  /* the terminal's input, relayed to the shell */
  int out_fd; /* where the shell's output is relayed */
} ovz_enter_options;
#define OVZ_ENTER_OPTIONS_INIT {sizeof(ovz_enter_options), NULL, 0, 1}

/* As ovz_ve_enter, as `opts` say; NULL options mean OVZ_ENTER_OPTIONS_INIT. */
int ovz_ve_enter_with(ovz_ve_t *ve, const ovz_enter_options *opts, int *exit_code);

/* A connection to the running VE's console (its /dev/console, served by the VE's monitor)
 * into *fd: what the VE writes there from now on can be read from it, what is written to it
 * is typed there. Close it when done. OVZ_ENOT_RUNNING when the VE is not running. */
int ovz_ve_console_open(ovz_ve_t *ve, int *fd);

typedef struct ovz_console_options {
  size_t size;
  int in_fd;       /* the terminal's input, typed on the console */
  int out_fd;      /* where the console's output is relayed */
  char detach_key; /* at the start of a line and followed by '.', detaches; 0: none */
} ovz_console_options;
#define OVZ_CONSOLE_OPTIONS_INIT {sizeof(ovz_console_options), 0, 1, '\x1b'}

/* Relays the caller's terminal (in raw mode meanwhile) to the VE's console, as `vzctl
 * console`, until the detach sequence is typed (*detached = 1) or the VE stops (0);
 * `detached` may be NULL. NULL options mean OVZ_CONSOLE_OPTIONS_INIT. */
int ovz_ve_console(ovz_ve_t *ve, const ovz_console_options *opts, int *detached);

/* The VE's CTID.conf, as text malloc'd into *out (free with ovz_string_free). */
int ovz_ve_config(ovz_ve_t *ve, char **out);

/* What ovz_ve_start would make of the VE, as text with an item per line (namespaces, id
 * map, storage and mounts, limits, device rules, capabilities, seccomp, network, hostname,
 * environment, init, console log) malloc'd into *out (free with ovz_string_free). Nothing is
 * started; what start would refuse in CTID.conf is refused. */
int ovz_ve_plan(ovz_ve_t *ve, char **out);
/* What ovz_ve_start_with would make of the VE with `opts` (NULL: OVZ_START_OPTIONS_INIT). */
int ovz_ve_plan_with(ovz_ve_t *ve, const ovz_start_options *opts, char **out);

/* The resource settings CTID.conf holds, as `KEY="value"` lines (NUMPROC="64:64",
 * CPUUNITS="1000", ...) malloc'd into *out (free with ovz_string_free). */
int ovz_ve_params(ovz_ve_t *ve, char **out);

/* Changes the hostname: live in a running VE, and in CTID.conf when `save` is non-zero (or
 * when the VE is stopped). */
int ovz_ve_set_hostname(ovz_ve_t *ve, const char *hostname, int save);

/* Changes one resource setting, as `vzctl set --NAME VALUE`: live in a running VE, and in
 * CTID.conf when `save` is non-zero (or when the VE is stopped). `name` is a beancounter
 * ("numproc", "physpages", ...; `value` "B" or "B:L", each a number with an optional K, M,
 * G, T or P suffix, or "unlimited") or one of "cpuunits", "cpulimit", "cpus" (decimal
 * numbers) and "cpumask" (a CPU list like "0-3,6" or "all"); or a disk setting of a VE
 * created with a diskspace (OVZ_EUNSUPPORTED for another, and nothing changes):
 * "diskspace" ("SOFT[:HARD]" in 1 KiB blocks, each with an optional K, M, G or T suffix; a
 * larger HARD grows the image, in a running VE only for a caller with CAP_SYS_RESOURCE
 * (else OVZ_EUNSUPPORTED), a smaller one needs the VE stopped), "diskinodes" ("SOFT[:HARD]" inodes), "quotatime" (seconds a soft limit may be
 * exceeded) and "quotaugidlimit" (how many users and groups the VE's own quota may name;
 * above 0 OVZ_EUNSUPPORTED where the kernel has no quota). */
int ovz_ve_set_param(ovz_ve_t *ve, const char *name, const char *value, int save);

/* Changes the VE's confinement, as `vzctl set` does: `name` is "capability" (`value`
 * "NAME:on|off ..."), "devnodes" ("NAME:r|w|rw|none ...", host nodes below /dev),
 * "seccomp_profile" (an absolute path of a profile file, "default" or "unconfined") or
 * "no_new_privs" ("yes" or "no"). Device nodes change at once in a running VE; the others
 * cannot change in running processes, so a running VE needs `save` non-zero and they apply
 * to new commands and the next start. Saved in CTID.conf when `save` (or the VE is stopped). */
int ovz_ve_set_security(ovz_ve_t *ve, const char *name, const char *value, int save);

/* Several settings changed as one (`vzctl set` with several options): collected with
 * ovz_changes_add(), made by ovz_ve_apply() under one lock with one save of CTID.conf. */
typedef struct ovz_changes ovz_changes_t;
int ovz_changes_new(ovz_changes_t **out);
void ovz_changes_free(ovz_changes_t *changes);
/* Adds one setting: "hostname", a name ovz_ve_set_param() takes, or one
 * ovz_ve_set_security() takes, with the same values; or a network change, named and valued
 * as vzctl set's option: "ipadd" (an address), "ipdel" (an address or "all"), "netif_add"
 * ("ifname[,mac,host_ifname,host_mac,bridge]"), "netif_del" (a device name inside); or
 * "stop_timeout" (whole seconds a stop waits for init, CTID.conf's STOP_TIMEOUT: saved only,
 * so ovz_ve_apply() refuses it unsaved on a running VE); "onboot" ("yes" or "no": started by
 * ovz_start_all(), saved only as stop_timeout); "nameserver" (an address, or "inherit": the
 * host's) and "searchdomain" (a domain, or "inherit"), each added once per server or domain,
 * written into the VE's /etc/resolv.conf (NAMESERVER, SEARCHDOMAIN). Each may be added
 * several times; deletions are made before additions. A bad name or value is refused here. */
int ovz_changes_add(ovz_changes_t *changes, const char *name, const char *value);
/* Makes the changes, each live in a running VE as its single call would, and saves CTID.conf
 * once when `save` is non-zero (or the VE is stopped). When one part is refused or the save
 * fails, the live changes already made are undone: the VE is as it was. */
int ovz_ve_apply(ovz_ve_t *ve, const ovz_changes_t *changes, int save);

/* Sets `user`'s password in the VE, adding the user (useradd -m) when it has none, as vzctl
 * set --userpasswd; nothing of it is saved in CTID.conf or shown on a command line. A running
 * VE's own chpasswd does it inside when it has one; otherwise the host edits the VE's
 * /etc/passwd, shadow and group (yescrypt hash). OVZ_EINVAL for a bad user name or an empty
 * password or one with a newline, and nothing changes. */
int ovz_ve_set_user_password(ovz_ve_t *ve, const char *user, const char *password);

/* Every VE of a state root started or stopped at once, as a host's boot and shutdown do: each
 * tried in CTID order whatever became of the others. ovz_start_all() starts those whose
 * CTID.conf says ONBOOT="yes" when `onboot_only` is non-zero, else every one; ovz_stop_all()
 * stops every running one (opts: NULL for the defaults). 0 once the state root was listed,
 * whether or not every VE started: read each with ovz_batch_at(). */
typedef struct ovz_batch ovz_batch_t;
int ovz_start_all(ovz_batch_t **out, const char *root, int onboot_only);
int ovz_stop_all(ovz_batch_t **out, const char *root, const ovz_stop_options *opts);
size_t ovz_batch_count(const ovz_batch_t *batch);
/* Entry i: the VE's CTID; *done 1 when it was started (stopped), 0 when it ran (was stopped)
 * already or failed; *code 0, or the negative OVZ_E* code of its failure with *message (owned
 * by the batch) saying why. Any output pointer may be NULL. */
int ovz_batch_at(const ovz_batch_t *batch, size_t i, unsigned *ctid, int *done, int *code,
                 const char **message);
void ovz_batch_free(ovz_batch_t *batch);

/* The confinement CTID.conf sets, as its lines (CAPABILITY="...", DEVNODES="...",
 * SECCOMP_PROFILE="...", NO_NEW_PRIVS="yes"; defaults are absent). Free *out with
 * ovz_string_free(). */
int ovz_ve_security(ovz_ve_t *ve, char **out);
/* Network (vzctl set --ipadd/--ipdel/--netif_add/--netif_del). Each change is live in a
 * running VE, and in CTID.conf when `save` is non-zero (or when the VE is stopped); a start
 * applies what CTID.conf holds. Bad input (an invalid or reserved address, one another VE or
 * the host has, an unknown device, a bridge name taken by a device that is not a bridge) is
 * refused, and a save that fails undoes the live change. Each is ovz_ve_apply() with that
 * one change; several go through ovz_changes_add(). */

/* Adds a routed address ("10.0.0.2", "fd00::2", optionally "/PREFIX") on the VE's venet0. */
int ovz_ve_add_ip(ovz_ve_t *ve, const char *addr, int save);
/* Removes one routed address. */
int ovz_ve_del_ip(ovz_ve_t *ve, const char *addr, int save);
/* Removes every routed address (vzctl set --ipdel all). */
int ovz_ve_del_all_ips(ovz_ve_t *ve, int save);
/* Adds a bridged veth device, vzctl's "ifname[,mac,host_ifname,host_mac,bridge]"; empty
 * fields get defaults (stable MACs, host end "veth<CTID>.<N>", no bridge). */
int ovz_ve_add_netif(ovz_ve_t *ve, const char *spec, int save);
/* Removes a bridged device by its name inside the VE. */
int ovz_ve_del_netif(ovz_ve_t *ve, const char *ifname, int save);
/* The network CTID.conf holds, as `IP_ADDRESS="..."` and `NETIF="..."` lines (those that are
 * set) malloc'd into *out (free with ovz_string_free). */
int ovz_ve_network(ovz_ve_t *ve, char **out);

/* OpenVZ's "no limit" (LONG_MAX), as barrier and limit of an unlimited beancounter. */
#define OVZ_UBC_UNLIMITED UINT64_C(9223372036854775807)

/* One beancounter of a VE. */
typedef struct ovz_ubc_stat {
  const char *resource; /* "numproc", ...: static storage, never freed */
  uint64_t held;
  uint64_t maxheld;
  uint64_t barrier;
  uint64_t limit;
  uint64_t failcnt;
  int measured; /* 1 when the host measures held/maxheld (else they read 0) */
  int enforced; /* 1 when the host enforces the limit (known only while the VE runs) */
} ovz_ubc_stat;

/* Writes up to `capacity` beancounters of the VE into `stats`, an array of structs of
 * `stat_size` bytes each (sizeof(ovz_ubc_stat)), and the number the VE has into *count, so a
 * call with stats NULL and capacity 0 asks how many there are; when *count is above capacity,
 * only the first `capacity` were written. */
int ovz_ve_beancounters(ovz_ve_t *ve, ovz_ubc_stat *stats, size_t stat_size, size_t capacity,
                        size_t *count);
/* ovz_ve_beancounters() of libovz 0.1's ovz_ubc_stat. */
int ovz_ve_get_stats(ovz_ve_t *ve, ovz_ubc_stat *stats, size_t capacity, size_t *count);
/* The CPU time the VE's processes used since its start, all CPUs together, in microseconds
 * into *usec (OpenVZ's /proc/vz/vestat); 0 for a stopped VE, OVZ_ENOTFOUND for one that does
 * not exist. A rate of use is the difference of two readings over the time between them. */
int ovz_ve_cpu_time(ovz_ve_t *ve, uint64_t *usec);

/* Beancounter snapshots of every running VE under a state root, taken again and again at a
 * small cost per VE: the reader keeps each VE's cgroup and /proc files open between reads
 * and rereads them in place (about 20 descriptors per running VE and 2 per process; a read
 * that runs out fails with errno EMFILE, the next one tries again). A VE started, stopped or
 * destroyed between two reads shows in the next. One thread at a time. */
typedef struct ovz_ubc_reader ovz_ubc_reader_t;

/* One beancounter of one VE in a reader's snapshot. */
typedef struct ovz_ubc_row {
  unsigned ctid;
  ovz_ubc_stat stat;
} ovz_ubc_row;

/* A reader of the VEs under `root` (NULL: the default; one not made yet has no VEs). */
int ovz_ubc_reader_open(ovz_ubc_reader_t **out, const char *root);
/* What a reader may read the counters from (see ubc_sources in <ovz/ubc_reader.hpp>). */
enum {
  OVZ_UBC_SOURCES_ANY = 0,        /* the ovz module's snapshot where loaded, files for the rest */
  OVZ_UBC_SOURCES_FILES_ONLY = 1, /* cgroup and /proc files alone: no /dev/ovz held open,
                                     which would keep the module from being unloaded */
};
/* ovz_ubc_reader_open() from `sources` only; another value is OVZ_EINVAL. */
int ovz_ubc_reader_open_from(ovz_ubc_reader_t **out, const char *root, int sources);
/* Takes a snapshot, which the reader keeps until the next; *count (if not NULL) gets its
 * number of rows: every running VE's beancounters, by CTID, in report order. */
int ovz_ubc_reader_read(ovz_ubc_reader_t *reader, size_t *count);
/* Copies up to `capacity` rows of the last snapshot into `rows`, an array of structs of
 * `row_size` bytes each (sizeof(ovz_ubc_row)), and the number it has into *count, as
 * ovz_ve_beancounters() does. */
int ovz_ubc_reader_rows(const ovz_ubc_reader_t *reader, ovz_ubc_row *rows, size_t row_size,
                        size_t capacity, size_t *count);
/* The last snapshot as /proc/user_beancounters' text, malloc'd into *out (free with
 * ovz_string_free). */
int ovz_ubc_reader_report(const ovz_ubc_reader_t *reader, char **out);
/* Where its counters come from on this host: "cgroup files", or "ovz module + cgroup files"
 * where the ovz kernel module gives the memory counters (see ubc_reader::backend() in
 * <ovz/ubc_reader.hpp>). Static storage. */
const char *ovz_ubc_reader_backend(const ovz_ubc_reader_t *reader);
/* Closes what the reader holds; NULL is fine. */
void ovz_ubc_reader_free(ovz_ubc_reader_t *reader);

/* Watching a VE's refusals: an event each time the kernel's failcnt of a watched beancounter
 * (numproc, physpages, swappages, kmemsize) grows. The watcher runs on a thread of its own
 * and queues its events until ovz_ubc_watch_next() reads them; an event not read yet takes in
 * later growth of its resource (failcnt moves on, previous stays), so a slow reader misses no
 * refusal and nothing piles up. On cgroup v2 the kernel's notifications wake it at once; on
 * v1 it looks every poll interval. A restarted VE is followed. */
typedef struct ovz_ubc_event {
  unsigned ctid;
  /* "numproc", ...: static storage, never freed. "diskspace" or "diskinodes" when the VE's
   * disk usage went above that soft limit; failcnt then counts those crossings since the
   * watch began (where the kernel keeps no quota, this is all a soft limit does). */
  const char *resource;
  uint64_t failcnt;     /* the count now */
  uint64_t previous;    /* the count before */
} ovz_ubc_event;

typedef struct ovz_ubc_watch_options {
  size_t size;
  unsigned poll_interval_ms; /* how often to look (not 0) */
} ovz_ubc_watch_options;
#define OVZ_UBC_WATCH_OPTIONS_INIT {sizeof(ovz_ubc_watch_options), 1000}

typedef struct ovz_ubc_watch ovz_ubc_watch_t;
/* Starts watching the VE (it need not run yet; `ve` may be freed afterwards); counts grown
 * before this call are not reported. NULL options mean OVZ_UBC_WATCH_OPTIONS_INIT. */
int ovz_ubc_watch_open(ovz_ubc_watch_t **out, ovz_ve_t *ve, const ovz_ubc_watch_options *opts);
/* The oldest event into `event`, a struct of `size` bytes (sizeof(ovz_ubc_event)), waiting up
 * to `timeout_ms` for one (0: not at all, -1: as long as it takes); OVZ_ETIMEDOUT when none
 * came. Several threads may wait at once: each event goes to one of them. */
int ovz_ubc_watch_next(ovz_ubc_watch_t *watch, int timeout_ms, ovz_ubc_event *event,
                       size_t size);
/* A descriptor that is readable while an event waits, for the program's own poll(2), select
 * or event loop; read the events with ovz_ubc_watch_next(), never from it. Owned by the
 * watcher; -1 for NULL. */
int ovz_ubc_watch_fd(const ovz_ubc_watch_t *watch);
/* Stops watching; events not read are dropped. No thread may be in ovz_ubc_watch_next(). */
void ovz_ubc_watch_free(ovz_ubc_watch_t *watch);

/* ovz_disk_usage.grace when no soft limit is exceeded, or the kernel does not enforce it. */
#define OVZ_QUOTA_NO_GRACE (~UINT64_C(0))

/* One row of `vzquota stat`: usage against the limits. */
typedef struct ovz_disk_usage {
  uint64_t usage;
  uint64_t soft;
  uint64_t hard;
  uint64_t grace; /* seconds left before an exceeded soft limit acts as hard */
} ovz_disk_usage;

/* A VE's disk quota, as `ovzctl quota CTID` prints it. */
typedef struct ovz_disk_quota {
  ovz_disk_usage blocks; /* in 1 KiB blocks (DISKSPACE) */
  ovz_disk_usage inodes; /* DISKINODES */
  uint64_t quotatime;    /* QUOTATIME, seconds */
  /* 1 when the kernel holds the VE to its soft limits and grace time; 0 where it has no
   * quota (the hard limits hold anyway: they are the image's size and inode count). */
  int soft_enforced;
} ovz_disk_quota;

/* The VE's disk usage against DISKSPACE and DISKINODES, running or not, into `out` of `size`
 * bytes (sizeof(ovz_disk_quota)). OVZ_EUNSUPPORTED for a VE created without a diskspace,
 * which has no quota. */
int ovz_ve_quota(ovz_ve_t *ve, ovz_disk_quota *out, size_t size);

/* Whether VEs can be checkpointed here: 0 when CRIU is installed ($OVZ_CRIU names another
 * program) and its own check of this kernel passed (asked once per process); else
 * OVZ_EUNSUPPORTED, with CRIU's reason in ovz_error_last(). */
int ovz_checkpoint_supported(void);

/* What this host's CRIU can do. */
typedef struct ovz_checkpoint_tools {
  char criu_version[32]; /* "3.17.1" */
  int memory_tracking;   /* dirty-memory tracking: iterative pre-dumps, online migration */
  int lazy_pages;        /* restore before every page is in (userfaultfd) */
} ovz_checkpoint_tools;

/* Fills `out` of `size` bytes (sizeof(ovz_checkpoint_tools)); OVZ_EUNSUPPORTED without criu. */
int ovz_checkpoint_tools_here(ovz_checkpoint_tools *out, size_t size);

typedef struct ovz_checkpoint_options {
  size_t size;
  /* non-zero: the VE runs on once its image is written (a backup, a copy to start
   * elsewhere); by default it stops then, as vzctl chkpnt does */
  int leave_running;
} ovz_checkpoint_options;
#define OVZ_CHECKPOINT_OPTIONS_INIT {sizeof(ovz_checkpoint_options), 0}

/* Writes the running VE (its processes, memory, open files, sockets, TCP connections) with
 * CRIU into the directory `dir` (NULL or "": <state root>/dump/<CTID>), its cgroup frozen
 * meanwhile, then stops it unless `opts` say otherwise (vzctl chkpnt); NULL options mean
 * OVZ_CHECKPOINT_OPTIONS_INIT. A dump that fails leaves the VE running as it was and no
 * directory behind. OVZ_EUNSUPPORTED, with CRIU's reason, where this host cannot checkpoint
 * (ovz_checkpoint_supported). */
int ovz_ve_checkpoint(ovz_ve_t *ve, const char *dir, const ovz_checkpoint_options *opts);
/* Starts the stopped VE from the checkpoint in `dir` (NULL or "": <state root>/dump/<CTID>),
 * its processes as they were (vzctl restore). A checkpoint of another VE, architecture or
 * cgroup version is refused before anything starts; a restore that fails leaves the VE
 * stopped. */
int ovz_ve_restore(ovz_ve_t *ve, const char *dir);

typedef struct ovz_migrate_options {
  size_t size;
  /* non-zero: its processes go with it (a checkpoint sent and restored there: the same
   * PIDs, open files and TCP connections; needs ovz_checkpoint_supported on both sides);
   * else it is stopped here and started there, as vzmigrate does without --online */
  int online;
  /* How long the other side may stay silent (taking nothing sent, sending no awaited
   * answer) before the move gives up with OVZ_ETIMEDOUT; 0: no limit. Silence after
   * everything was sent leaves the VE in doubt (OVZ_EINDOUBT): the limit must cover the
   * other side's start or restore of the VE. */
  unsigned timeout_ms;
} ovz_migrate_options;
#define OVZ_MIGRATE_OPTIONS_INIT {sizeof(ovz_migrate_options), 0, 0}

/* Moves the VE to the ovz_receive_ve() at the other end of `fd`, a connected stream (a
 * socket pair, a TCP connection, ssh's stdin and stdout): its CTID.conf, private area and,
 * online, its checkpoint; then it runs there as it ran here (restored when online, else
 * stopped here and started there) and nothing of it stays here (vzmigrate). NULL options
 * mean OVZ_MIGRATE_OPTIONS_INIT.
 * The other side may refuse (it has the CTID, lacks the template) before anything here
 * changes: OVZ_EPEER with its reason. Any failure before it runs there leaves it here as it
 * was (offline started again; online the same processes running on). When the other side's
 * last answer never comes it may run there: it is left here (offline stopped; online
 * suspended, its host side cut off until ovz_ve_resume) and OVZ_EINDOUBT says so, never
 * run twice. */
int ovz_ve_migrate(ovz_ve_t *ve, int fd, const ovz_migrate_options *opts);
/* The receiving side of ovz_ve_migrate: takes the VE that comes over `fd` into `state_root`
 * (NULL: $OVZ_ROOT or the default) and runs it as it ran at the source; `ctid` (may be NULL)
 * gets its CTID. On failure nothing of it stays here and the source is told why. */
int ovz_receive_ve(int fd, const char *state_root, unsigned *ctid);

/* A user or a group of a VE, by its id inside the VE (vzquota's ugid). */
#define OVZ_QUOTA_USER 0
#define OVZ_QUOTA_GROUP 1
typedef struct ovz_quota_ugid {
  int type; /* OVZ_QUOTA_USER or OVZ_QUOTA_GROUP */
  uint32_t id;
} ovz_quota_ugid;

/* A user's or group's quota inside a VE, the second level (vzquota stat -t): what its files
 * take of the VE's disk against its own limits (0: none). */
typedef struct ovz_ugid_quota {
  ovz_quota_ugid owner;
  ovz_disk_usage blocks; /* in 1 KiB blocks */
  ovz_disk_usage inodes;
} ovz_ugid_quota;

/* Limits a user's or group's files inside the VE (vzquota setlimit2): `blocks` and `inodes`
 * as "SOFT[:HARD]" (blocks in 1 KiB with K, M, G, T suffixes), "0" removes a limit, NULL
 * keeps it. Running or not. Needs the kernel's quota and QUOTAUGIDLIMIT above 0, which caps
 * how many users and groups have limits (OVZ_EUNSUPPORTED, OVZ_EINVAL naming it, if not). */
int ovz_ve_set_ugid_quota(ovz_ve_t *ve, ovz_quota_ugid owner, const char *blocks,
                          const char *inodes);
/* Writes up to `capacity` users' and groups' quotas (every one with files or limits on the
 * VE's disk, users first, by id) into `out`, structs of `size` bytes each
 * (sizeof(ovz_ugid_quota)), and how many there are into *count, as ovz_ve_beancounters. */
int ovz_ve_ugid_quotas(ovz_ve_t *ve, ovz_ugid_quota *out, size_t size, size_t capacity,
                       size_t *count);

/* Typed getters of what CTID.conf sets (ovz_ve_params, ovz_ve_security and ovz_ve_network
 * give the same as CTID.conf text). */

/* The barrier and limit CTID.conf sets for beancounter `resource` ("numproc", ...; either
 * pointer may be NULL); OVZ_UBC_UNLIMITED for one it does not set. */
int ovz_ve_get_ubc_limit(ovz_ve_t *ve, const char *resource, uint64_t *barrier,
                         uint64_t *limit);

/* The CPU settings; what CTID.conf does not set reads as its default. */
typedef struct ovz_cpu_params {
  unsigned cpuunits;          /* relative weight, 1000 when unset */
  unsigned cpulimit;          /* percent of one CPU, 0: no ceiling */
  unsigned cpus;              /* ceiling in CPUs, 0: none */
  char cpumask[OVZ_NAME_MAX]; /* CPU list ("0-3,6"), "all" when unset */
} ovz_cpu_params;
/* Into `out` of `size` bytes (sizeof(ovz_cpu_params)). */
int ovz_ve_get_cpu(ovz_ve_t *ve, ovz_cpu_params *out, size_t size);

/* *on is 1 when CTID.conf turns capability `name` ("net_admin", any case, with or without
 * "cap_") on, 0 when off; OVZ_ENOTFOUND when it does not name it (the default applies). */
int ovz_ve_get_capability(ovz_ve_t *ve, const char *name, int *on);
/* NO_NEW_PRIVS: *on 1 or 0. */
int ovz_ve_get_no_new_privs(ovz_ve_t *ve, int *on);
/* SECCOMP_PROFILE: "default", "unconfined" or a path, malloc'd into *out. */
int ovz_ve_get_seccomp_profile(ovz_ve_t *ve, char **out);
/* The i-th routed address of IP_ADDRESS ("10.0.0.2/24"), malloc'd into *out; OVZ_ENOTFOUND
 * past the last, so a loop from 0 reads them all. */
int ovz_ve_get_ip(ovz_ve_t *ve, size_t i, char **out);
/* The i-th device of NETIF in vzctl's "ifname,mac,host_ifname,host_mac,bridge" form,
 * malloc'd into *out; OVZ_ENOTFOUND past the last. */
int ovz_ve_get_netif(ovz_ve_t *ve, size_t i, char **out);

/* The OS templates under `root` (NULL: the default), one name per line (the built-in
 * "busybox" always), malloc'd into *out (free with ovz_string_free). */
int ovz_template_list(const char *root, char **out);
/* Unpacks a root filesystem tarball (.tar, .tar.gz, .tgz, .tar.xz) as a template named
 * `name` (NULL: the file name without its extension). */
int ovz_template_import(const char *root, const char *tarball, const char *name);

typedef struct ovz_debootstrap_options {
  size_t size;
  const char *suite;  /* required: "bookworm", "stable", ... */
  /* NULL or "": the mirror the host's apt sources name for the suite */
  const char *mirror;
  /* Packages beyond minbase as a NULL-terminated list, or NULL; systemd-sysv is added when
   * none of them is an init. */
  const char *const *include;
  const char *cache_dir; /* NULL or "": no cache of the downloaded .debs */
} ovz_debootstrap_options;
#define OVZ_DEBOOTSTRAP_OPTIONS_INIT {sizeof(ovz_debootstrap_options), NULL, NULL, NULL, NULL}

/* Builds a template named `name` with the host's debootstrap and makes it fit for VEs (no
 * gettys, no shared machine-id or SSH host keys, no apt caches); takes minutes. A failed
 * create leaves nothing behind. */
int ovz_template_create(const char *root, const char *name, const ovz_debootstrap_options *opts);

/* The text of /proc/user_beancounters for every running VE under `root` (NULL: the default),
 * malloc'd into *out (free with ovz_string_free). */
int ovz_ubc_report(const char *root, char **out);

/* ---- OCI containers (<ovz/oci_container.hpp>): runc's operations on an OCI bundle run as a
 * VE under a runtime's state root (NULL or "": /run/ovz-oci). Each container is a VE whose
 * CTID.conf holds NAME=<id> and its resources as beancounters. ---- */

typedef struct ovz_oci ovz_oci_t;

/* The stdio of a container's process. Without the bundle's process.terminal its descriptors
 * 0, 1, 2 are these; with it, console_socket is a connected AF_UNIX socket the terminal's
 * master side is sent over (one SCM_RIGHTS message), and required. */
typedef struct ovz_oci_io {
  size_t size;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int console_socket; /* -1: none */
  /* Descriptors that become the process's 3, 4, ... in this order (runc's --preserve-fds);
   * -1 leaves that number closed. */
  const int *pass_fds;
  size_t pass_fd_count;
  /* How many of pass_fds, from the first, are sockets a service manager passed (systemd's
   * socket activation): the process gets LISTEN_FDS and LISTEN_PID=1 in its environment. */
  size_t listen_fd_count;
} ovz_oci_io;
#define OVZ_OCI_IO_INIT {sizeof(ovz_oci_io), 0, 1, 2, -1, NULL, 0, 0}

/* Creates the container `id` (letters, digits, '_', '+', '-', '.') from the bundle directory
 * `bundle` (its config.json): its process set up and waiting for ovz_oci_start(). `io` NULL:
 * OVZ_OCI_IO_INIT. An ID in use is OVZ_EEXIST; a refusal leaves nothing behind. */
int ovz_oci_create(ovz_oci_t **out, const char *root, const char *id, const char *bundle,
                   const ovz_oci_io *io);
/* The existing container `id`; OVZ_ENOTFOUND ("container does not exist") otherwise. */
int ovz_oci_open(ovz_oci_t **out, const char *root, const char *id);
/* The IDs of the containers under the state root (NULL: /run/ovz-oci), sorted, one per line
 * with a newline after each, malloc'd: free it with ovz_string_free(). "" when there are none. */
int ovz_oci_list(const char *root, char **ids);
/* The container's CTID. */
unsigned ovz_oci_ctid(const ovz_oci_t *container);
/* The runtime-spec state as runc state prints it (JSON: ociVersion, id, pid, status, bundle,
 * rootfs, created, annotations), malloc'd: free it with ovz_string_free(). */
int ovz_oci_state(const ovz_oci_t *container, char **json);
/* Lets the created container's process run. */
int ovz_oci_start(ovz_oci_t *container);
/* Sends `signal` to its init, or with `all` non-zero to every process of it. */
int ovz_oci_kill(ovz_oci_t *container, int signal, int all);
/* Removes a stopped or created container (a running one only with `force`); the handle is
 * still to be freed. */
int ovz_oci_delete(ovz_oci_t *container, int force);
int ovz_oci_pause(ovz_oci_t *container);
int ovz_oci_resume(ovz_oci_t *container);
/* Changes the running container's limits as `resources_json`, a runtime-spec
 * LinuxResources object (runc update's file), names them. */
int ovz_oci_update(ovz_oci_t *container, const char *resources_json);
/* Starts `process_json`, a runtime-spec process object (runc exec's file), in the container.
 * `detach` non-zero: *pid gets its PID and it is left running (its parent exits); zero: the
 * call waits, *exit_code gets its exit status (128+N for signal N). Either may be NULL. */
int ovz_oci_exec(ovz_oci_t *container, const char *process_json, const ovz_oci_io *io,
                 int detach, int *pid, int *exit_code);
/* The host PIDs of its processes: up to `max` into `pids`, their number into *count. */
int ovz_oci_pids(const ovz_oci_t *container, int *pids, size_t max, size_t *count);
void ovz_oci_free(ovz_oci_t *container);

#ifdef __cplusplus
}
#endif

#endif /* OVZ_H */
