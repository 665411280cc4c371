/* The C ABI from plain C99: a VE through create, start, exec, set, stats, stop and destroy in
 * a private state root, and the error paths. Prints one TAP line per check; exits 1 on any
 * failure, 77 (ctest: skipped) when not root. CTIDs 9300-9349, 13210-13219, 13800-13809, 14610,
 * 18110-18111, user namespaces 9390-9399. */
#define _XOPEN_SOURCE 700 /* mkdtemp */

#include <ovz.h>

#include "tap.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

static const ovz_ubc_stat *find_stat(const ovz_ubc_stat *stats, size_t n, const char *name) {
  size_t i;
  for (i = 0; i < n; ++i)
    if (strcmp(stats[i].resource, name) == 0) return &stats[i];
  return NULL;
}

/* Checkpoint support is CRIU's own check of this kernel (criu check), its reason given. */
static void check_checkpoint_support(void) {
  ovz_checkpoint_tools tools;
  int criu_says;
  if (system("command -v criu >/dev/null 2>&1") != 0) {
    printf("# SKIP checkpoint support: criu is not installed\n");
    return;
  }
  criu_says = system("criu check >/dev/null 2>&1") == 0;
  check((ovz_checkpoint_supported() == OVZ_OK) == criu_says,
        "ovz_checkpoint_supported agrees with criu check");
  check(criu_says || (ovz_error_last()->code == OVZ_EUNSUPPORTED &&
                      strstr(ovz_error_last()->message, "CRIU cannot checkpoint") != NULL),
        "... and says CRIU's reason where it fails");
  check(ovz_has_feature("checkpoint") == criu_says &&
            !!(ovz_features() & OVZ_FEATURE_CHECKPOINT) == criu_says,
        "the checkpoint feature is the same answer");
  check(ovz_checkpoint_tools_here(&tools, sizeof tools) == OVZ_OK &&
            strncmp(tools.criu_version, "3.", 2) == 0,
        "ovz_checkpoint_tools_here gives CRIU's version");
  check(ovz_checkpoint_tools_here(NULL, sizeof tools) == OVZ_EINVAL,
        "ovz_checkpoint_tools_here with out NULL is OVZ_EINVAL");
}

/* Checks that don't need a VE: argument and options validation, *_free(NULL), features. */
static void check_without_ve(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_stop_options zeroed;
  const ovz_error *e;

  check(ovz_version() != NULL && ovz_version()[0] != '\0', "ovz_version is not empty");
  check(ovz_has_feature("cgroup1") + ovz_has_feature("cgroup2") == 1,
        "exactly one of cgroup1 and cgroup2");
  {
    int first = -1, second = -1;
    const int rc = ovz_tune_host(&first);
    check((rc == OVZ_OK && (first == 0 || first == 1) && ovz_tune_host(&second) == OVZ_OK &&
           second == 0) ||
              (rc == OVZ_EUNSUPPORTED && strstr(ovz_error_last()->message, "favordynmods")),
          "ovz_tune_host tunes the host once; a second call finds it tuned");
  }
  {
    /* The module is there exactly when its device is (the lab loads it in its own test). */
    const int kmod = access("/dev/ovz", F_OK) == 0;
    const int timens = access("/proc/self/ns/time", F_OK) == 0;
    struct statfs fs;
    const char *lxcfs_dir = getenv("OVZ_LXCFS") ? getenv("OVZ_LXCFS") : "/var/lib/lxcfs";
    char meminfo[4096];
    int lxcfs;
    snprintf(meminfo, sizeof meminfo, "%s/proc/meminfo", lxcfs_dir);
    lxcfs = statfs(meminfo, &fs) == 0 && fs.f_type == 0x65735546; /* FUSE: LXCFS runs */
    check(ovz_has_feature("kmod") == kmod && ovz_has_feature("timens") == timens &&
              ovz_has_feature("no-such-feature") == 0,
          "kmod and timens are as the host has them; unknown features are absent");
    check(strcmp(ovz_view_backend("uptime"), kmod     ? "ovz module"
                                             : timens ? "time namespace"
                                             : lxcfs  ? "LXCFS"
                                                      : "host") == 0 &&
              strcmp(ovz_view_backend("proc"), kmod ? "ovz module" : lxcfs ? "LXCFS" : "host") == 0 &&
              strcmp(ovz_view_backend("beancounters"), "cgroup files") == 0 &&
              ovz_view_backend("disk") == NULL && ovz_view_backend(NULL) == NULL,
          "view_backend names what serves each view");
  }
  check(!!(ovz_features() & OVZ_FEATURE_CGROUP2) == ovz_has_feature("cgroup2") &&
            !!(ovz_features() & OVZ_FEATURE_CGROUP1) == ovz_has_feature("cgroup1") &&
            !!(ovz_features() & OVZ_FEATURE_USERNS) == ovz_has_feature("userns") &&
            !!(ovz_features() & OVZ_FEATURE_SYSTEMD) == ovz_has_feature("systemd") &&
            !!(ovz_features() & OVZ_FEATURE_KMOD) == ovz_has_feature("kmod") &&
            !!(ovz_features() & OVZ_FEATURE_TIMENS) == ovz_has_feature("timens"),
        "ovz_features has the bits ovz_has_feature names");
  check(!ovz_has_feature("systemd") || ovz_has_feature("cgroup2"),
        "systemd makes VEs' cgroups only on cgroup v2");
  check_checkpoint_support();

  check(ovz_ve_open(&ve, 0, root) == OVZ_EINVAL && ve == NULL, "open of CTID 0 is OVZ_EINVAL");
  e = ovz_error_last();
  check(e->code == OVZ_EINVAL && e->message[0] != '\0', "... with a message in ovz_error_last");
  check(ovz_ve_open(NULL, 9300, root) == OVZ_EINVAL, "open with out NULL is OVZ_EINVAL");

  check(ovz_ve_open(&ve, 9301, root) == 0 && ve != NULL, "open of an absent VE succeeds");
  check(ovz_error_last()->code == 0 && ovz_error_last()->message[0] == '\0',
        "a successful call clears the last error");
  check(ovz_ve_ctid(ve) == 9301, "ovz_ve_ctid gives the CTID");
  check(ovz_ve_start(ve) == OVZ_ENOTFOUND, "start of an absent VE is OVZ_ENOTFOUND");
  check(ovz_error_last()->message[0] != '\0', "... with a message");
  check(ovz_ve_suspend(NULL) == OVZ_EINVAL && ovz_ve_resume(NULL) == OVZ_EINVAL &&
            ovz_ve_checkpoint(NULL, NULL, NULL) == OVZ_EINVAL &&
            ovz_ve_restore(NULL, NULL) == OVZ_EINVAL,
        "suspend, resume, checkpoint and restore of a NULL ve are OVZ_EINVAL");

  memset(&zeroed, 0, sizeof zeroed);
  check(ovz_ve_stop(ve, &zeroed) == OVZ_EINVAL, "stop with uninitialised options is OVZ_EINVAL");
  ovz_ve_free(ve);

  ovz_ve_free(NULL);
  ovz_string_free(NULL);
  ovz_ve_list_free(NULL);
  check(1, "*_free(NULL) are no-ops");
}

/* A program built against an older ovz.h (its structs shorter) and a newer one (longer)
 * both get what their size holds, nothing written past it; typed getters read CTID.conf. */
static void check_sized_and_typed(ovz_ve_t *ve, const char *root) {
  ovz_ve_status_t old_status;
  struct {
    ovz_ubc_stat stat;
    uint64_t newer_field;
  } newer[64];
  ovz_ubc_stat old_stats[64];
  const size_t old_stat_size = offsetof(ovz_ubc_stat, measured);
  ovz_ves_t *ves = NULL;
  ovz_ve_status_t st;
  ovz_cpu_params cpu;
  size_t count = 0, i;
  uint64_t barrier = 0, limit = 0;
  int all_kept = 1;
  const unsigned char *bytes;

  memset(&old_status, 0x55, sizeof old_status);
  check(ovz_ve_get_status(ve, &old_status, offsetof(ovz_ve_status_t, ostemplate)) == 0 &&
            old_status.state == OVZ_STATE_RUNNING &&
            strcmp(old_status.hostname, "c-api.example.com") == 0 &&
            (unsigned char)old_status.ostemplate[0] == 0x55,
        "get_status of an older, shorter struct fills it and nothing past it");
  check(ovz_ve_get_status(ve, &st, 0) == OVZ_EINVAL, "get_status with size 0 is OVZ_EINVAL");

  memset(newer, 0x55, sizeof newer);
  check(ovz_ve_beancounters(ve, &newer[0].stat, sizeof newer[0], 64, &count) == 0 && count > 0,
        "beancounters into a newer program's longer structs");
  for (i = 0; i < count && i < 64; ++i)
    all_kept = all_kept && newer[i].newer_field == UINT64_C(0x5555555555555555) &&
               newer[i].stat.resource != NULL;
  check(all_kept && strcmp(newer[0].stat.resource, "kmemsize") == 0,
        "... each at its stride, the fields this library does not know left alone");
  memset(old_stats, 0x55, sizeof old_stats);
  check(ovz_ve_beancounters(ve, old_stats, old_stat_size, 64, &count) == 0,
        "beancounters into an older program's shorter structs");
  bytes = (const unsigned char *)old_stats;
  check(strcmp(((const ovz_ubc_stat *)(const void *)(bytes + old_stat_size))->resource,
               "lockedpages") == 0,
        "... packed at the older size");

  check(ovz_ves_open(&ves, root) == 0 && ovz_ves_count(ves) >= 1 &&
            ovz_ves_at(ves, 0, &st, sizeof st) == 0 && st.ctid > 0 &&
            ovz_ves_at(ves, ovz_ves_count(ves), &st, sizeof st) == OVZ_EINVAL,
        "ves_open, ves_count and ves_at read the VEs, and refuse an index past them");
  ovz_ves_free(ves);
  ovz_ves_free(NULL);

  check(ovz_ve_get_ubc_limit(ve, "numproc", &barrier, &limit) == 0 && barrier == 64 &&
            limit == 64,
        "get_ubc_limit gives the saved numproc");
  check(ovz_ve_get_ubc_limit(ve, "numiptent", &barrier, NULL) == 0 &&
            barrier == OVZ_UBC_UNLIMITED,
        "... and unlimited for one CTID.conf does not set");
  check(ovz_ve_get_ubc_limit(ve, "ram", &barrier, &limit) == OVZ_EINVAL,
        "... and OVZ_EINVAL for no beancounter");
  check(ovz_ve_get_cpu(ve, &cpu, sizeof cpu) == 0 && cpu.cpuunits == 2000 && cpu.cpulimit == 0,
        "get_cpu gives the saved cpuunits and no ceiling");
}

static void check_life(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  ovz_ve_status_t st;
  ovz_ve_status_t *list = NULL;
  ovz_ubc_stat stats[64];
  const ovz_ubc_stat *numproc;
  size_t count = 0;
  int code = -1;
  char *out = NULL;
  char *err = NULL;
  char *report = NULL;
  const char *const exit7[] = {"/bin/sh", "-c", "exit 7", NULL};
  const char *const spin[] = {
      "/bin/sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done", NULL};
  uint64_t cpu_before = 1, cpu_after = 0;
  const char *const hostname[] = {"/bin/sh", "-c", "hostname; echo oops >&2", NULL};
  const char *const has_kmsg[] = {"/bin/sh", "-c", "test -c /dev/kmsg", NULL};
  const char *const background_sleeps[] = {
      "/bin/sh", "-c", "for i in 1 2 3; do sleep 300 </dev/null >/dev/null 2>&1 & done", NULL};
  char *security = NULL;

  if (!check(ovz_ve_open(&ve, 9310, root) == 0, "open VE 9310")) return;
  create.hostname = "c-api.example.com";
  if (!check(ovz_ve_create(ve, &create) == 0, "create")) goto out;
  check(ovz_ve_create(ve, NULL) == OVZ_EEXIST, "create again is OVZ_EEXIST");
  check(ovz_ve_status(ve, &st) == 0 && st.state == OVZ_STATE_STOPPED && !st.mounted &&
            strcmp(st.hostname, "c-api.example.com") == 0 &&
            strcmp(st.ostemplate, "busybox") == 0,
        "status of the created VE: stopped, hostname and template");
  check(ovz_ve_exec(ve, exit7, &code) == OVZ_ENOTRUNNING, "exec on a stopped VE is OVZ_ENOTRUNNING");
  check(ovz_ve_cpu_time(ve, &cpu_before) == 0 && cpu_before == 0,
        "cpu_time of a stopped VE is 0");
  check(ovz_ve_cpu_time(ve, NULL) == OVZ_EINVAL, "cpu_time into NULL is OVZ_EINVAL");

  if (!check(ovz_ve_start(ve) == 0, "start")) goto destroy;
  check(ovz_ve_start(ve) == OVZ_ERUNNING, "start again is OVZ_ERUNNING");
  check(ovz_ve_status(ve, &st) == 0 && st.state == OVZ_STATE_RUNNING && st.mounted &&
            st.init_pid > 0 && st.nproc >= 1,
        "status of the started VE: running, mounted, init PID, processes");

  check(ovz_ve_exec(ve, exit7, &code) == 0 && code == 7, "exec of sh -c 'exit 7' gives 7");
  check(ovz_ve_cpu_time(ve, &cpu_before) == 0 && ovz_ve_exec(ve, spin, &code) == 0 &&
            code == 0 && ovz_ve_cpu_time(ve, &cpu_after) == 0 &&
            cpu_after >= cpu_before + 50000,
        "cpu_time grows by the CPU a loop in the VE ran");
  check(ovz_ve_exec(ve, NULL, &code) == OVZ_EINVAL, "exec of a NULL argv is OVZ_EINVAL");
  {
    /* Root of the VE mounts a tmpfs: its monitor does it for it. */
    const char *const mount_tmpfs[] = {
        "/bin/sh", "-c",
        "mkdir -p /srv/c && mount -t tmpfs tmpfs /srv/c && touch /srv/c/f && umount /srv/c "
        "&& test ! -e /srv/c/f",
        NULL};
    check(ovz_ve_exec(ve, mount_tmpfs, &code) == 0 && code == 0,
          "root of the VE mounts and unmounts a tmpfs");
  }
  check(ovz_ve_exec_capture(ve, hostname, &code, &out, &err) == 0 && code == 0 && out && err &&
            strcmp(out, "c-api.example.com\n") == 0 && strcmp(err, "oops\n") == 0,
        "exec_capture gives the hostname on stdout and stderr apart");
  ovz_string_free(out);
  ovz_string_free(err);

  /* Saved: a VE's beancounters report the barrier and limit its CTID.conf holds. */
  check(ovz_ve_set_param(ve, "numproc", "64", 1) == 0, "set numproc 64 --save");
  check(ovz_ve_get_stats(ve, NULL, 0, &count) == 0 && count > 0, "get_stats counts");
  check(count <= sizeof stats / sizeof stats[0] &&
            ovz_ve_get_stats(ve, stats, sizeof stats / sizeof stats[0], &count) == 0,
        "get_stats fills");
  numproc = find_stat(stats, count, "numproc");
  check(numproc && numproc->barrier == 64 && numproc->limit == 64 && (numproc->held >= 1 || !numproc->measured),
        "numproc is 64:64 and counts the VE's processes");
  /* Live only: the report gives the limit the kernel holds, CTID.conf keeps 64. */
  check(ovz_ve_set_param(ve, "numproc", "48", 0) == 0 &&
            ovz_ve_get_stats(ve, stats, sizeof stats / sizeof stats[0], &count) == 0 &&
            (numproc = find_stat(stats, count, "numproc")) && numproc->barrier == 48 &&
            numproc->limit == 48,
        "set numproc 48 without save shows 48:48 in get_stats");
  check(ovz_ve_params(ve, &out) == 0 && out && strstr(out, "NUMPROC=\"64:64\""),
        "... and CTID.conf still says 64:64");
  ovz_string_free(out);
  check(ovz_ve_set_param(ve, "numproc", "64:32", 0) == OVZ_EINVAL,
        "limit below barrier is OVZ_EINVAL");
  check(ovz_ve_set_param(ve, "nosuchthing", "1", 0) == OVZ_EINVAL,
        "an unknown parameter is OVZ_EINVAL");
  check(ovz_ve_set_param(ve, "cpuunits", "2000", 1) == 0, "set cpuunits 2000 --save");
  check(ovz_ve_set_param(ve, "cpulimit", "x", 0) == OVZ_EINVAL, "cpulimit x is OVZ_EINVAL");
  check_sized_and_typed(ve, root);
  check(ovz_ve_set_hostname(ve, "renamed", 0) == 0 &&
            ovz_ve_exec_capture(ve, hostname, &code, &out, NULL) == 0 && out &&
            strcmp(out, "renamed\n") == 0,
        "set_hostname changes the live hostname");
  ovz_string_free(out);
  check(ovz_ve_status(ve, &st) == 0 && strcmp(st.hostname, "c-api.example.com") == 0,
        "... and, unsaved, not CTID.conf's");

  check(ovz_ve_set_security(ve, "devnodes", "kmsg:w", 0) == 0 &&
            ovz_ve_exec_capture(ve, has_kmsg, &code, NULL, NULL) == 0 && code == 0,
        "set_security devnodes grants a node live");
  check(ovz_ve_set_security(ve, "capability", "bogus:on", 1) == OVZ_EINVAL,
        "an unknown capability is OVZ_EINVAL");
  check(ovz_ve_set_security(ve, "selinux", "on", 1) == OVZ_EINVAL,
        "an unknown setting is OVZ_EINVAL");
  check(ovz_ve_set_security(ve, "no_new_privs", "yes", 0) == OVZ_EINVAL,
        "no_new_privs of a running VE must be saved");
  check(ovz_ve_set_security(ve, "no_new_privs", "yes", 1) == 0 &&
            ovz_ve_set_security(ve, "capability", "net_admin:off", 1) == 0 &&
            ovz_ve_security(ve, &security) == 0 && security &&
            strstr(security, "NO_NEW_PRIVS=\"yes\"") &&
            strstr(security, "CAPABILITY=\"net_admin:off\"") && !strstr(security, "DEVNODES"),
        "saved settings read back; the unsaved device grant is not saved");
  {
    int on = -1, nnp = -1;
    char *profile = NULL;
    check(ovz_ve_get_capability(ve, "CAP_NET_ADMIN", &on) == 0 && on == 0 &&
              ovz_ve_get_capability(ve, "sys_time", &on) == OVZ_ENOTFOUND &&
              ovz_ve_get_no_new_privs(ve, &nnp) == 0 && nnp == 1 &&
              ovz_ve_get_seccomp_profile(ve, &profile) == 0 && profile &&
              strcmp(profile, "default") == 0,
          "typed getters read the confinement back");
    ovz_string_free(profile);
  }
  ovz_string_free(security);

  check(ovz_ubc_report(root, &report) == 0 && report && strstr(report, "9310:") &&
            strstr(report, "numproc"),
        "ubc_report shows the VE");
  ovz_string_free(report);
  {
    ovz_ubc_reader_t *reader = NULL;
    ovz_ubc_row rows[64];
    size_t rows_read = 0, i;
    uint64_t numproc_before = 0, numproc_after = 0;
    report = NULL;
    /* The ovz module, where it is loaded, gives the memory counters. */
    const char *backend =
        access("/dev/ovz", F_OK) == 0 ? "ovz module + cgroup files" : "cgroup files";
    check(ovz_ubc_reader_open(&reader, root) == 0 && reader &&
              strcmp(ovz_ubc_reader_backend(reader), backend) == 0,
          "ubc_reader_open, and its backend");
    check(ovz_ubc_reader_read(reader, &count) == 0 && count > 0 &&
              ovz_ubc_reader_rows(reader, rows, sizeof rows[0], 64, &rows_read) == 0 &&
              rows_read == count && rows[0].ctid == 9310 &&
              strcmp(rows[0].stat.resource, "kmemsize") == 0,
          "ubc_reader_read takes a snapshot whose rows name the VE");
    for (i = 0; i < rows_read && i < 64; ++i)
      if (strcmp(rows[i].stat.resource, "numproc") == 0) numproc_before = rows[i].stat.held;
    check(ovz_ve_exec_capture(ve, background_sleeps, &code, NULL, NULL) == 0 && code == 0 &&
              ovz_ubc_reader_read(reader, NULL) == 0 &&
              ovz_ubc_reader_rows(reader, rows, sizeof rows[0], 64, &rows_read) == 0,
          "a second read after new processes");
    for (i = 0; i < rows_read && i < 64; ++i)
      if (strcmp(rows[i].stat.resource, "numproc") == 0) numproc_after = rows[i].stat.held;
    check(numproc_after >= numproc_before + 3, "... counts them");
    check(ovz_ubc_reader_report(reader, &report) == 0 && report && strstr(report, "9310:"),
          "ubc_reader_report gives the last snapshot as text");
    ovz_string_free(report);
    check(ovz_ubc_reader_rows(reader, NULL, 0, 0, &rows_read) == 0 && rows_read == count &&
              ovz_ubc_reader_rows(reader, NULL, sizeof rows[0], 1, &rows_read) == OVZ_EINVAL &&
              ovz_ubc_reader_read(NULL, NULL) == OVZ_EINVAL,
          "rows counts without copying; NULL rows with capacity, or no reader, is OVZ_EINVAL");
    ovz_ubc_reader_free(reader);
    ovz_ubc_reader_free(NULL);
    reader = NULL;
    check(ovz_ubc_reader_open_from(&reader, root, OVZ_UBC_SOURCES_FILES_ONLY) == 0 && reader &&
              strcmp(ovz_ubc_reader_backend(reader), "cgroup files") == 0 &&
              ovz_ubc_reader_read(reader, &count) == 0 && count > 0,
          "a files-only reader reads the cgroup files wherever the module is");
    ovz_ubc_reader_free(reader);
    reader = (ovz_ubc_reader_t *)1;
    check(ovz_ubc_reader_open_from(&reader, root, 7) == OVZ_EINVAL && reader == NULL &&
              strstr(ovz_error_last()->message, "sources 7"),
          "unknown sources are OVZ_EINVAL, named");
  }
  check(ovz_ve_list(root, &list, &count) == 0 && count == 1 && list[0].ctid == 9310 &&
            list[0].state == OVZ_STATE_RUNNING,
        "list shows the running VE");
  ovz_ve_list_free(list);

  stop.timeout_ms = 5000;
  check(ovz_ve_restart(ve, &stop) == 0 && ovz_ve_status(ve, &st) == 0 &&
            st.state == OVZ_STATE_RUNNING,
        "restart");
  check(ovz_ve_destroy(ve) == OVZ_ERUNNING, "destroy of a running VE is OVZ_ERUNNING");
  check(ovz_ve_stop(ve, &stop) == 0 && ovz_ve_status(ve, &st) == 0 &&
            st.state == OVZ_STATE_STOPPED && !st.mounted && st.init_pid == 0,
        "stop");
  check(ovz_ve_stop(ve, NULL) == OVZ_ENOTRUNNING, "stop again is OVZ_ENOTRUNNING");
  check(ovz_ve_enter(ve, &code) == OVZ_ENOTRUNNING, "enter of a stopped VE is OVZ_ENOTRUNNING");
  {
    char *names = NULL;
    check(ovz_template_list(root, &names) == 0 && names && strstr(names, "busybox\n"),
          "template_list names busybox");
    ovz_string_free(names);
    check(ovz_template_import(root, "/no/such/rootfs.tar.gz", NULL) == OVZ_ESYSTEM &&
              ovz_error_last()->sys_errno == ENOENT,
          "template_import of a missing tarball is ENOENT");
    ovz_debootstrap_options deb = OVZ_DEBOOTSTRAP_OPTIONS_INIT;
    check(ovz_template_create(root, "deb", &deb) == OVZ_EINVAL, "template_create without a suite");
    const char *const bad[] = {"cron", "-bad", NULL};
    deb.suite = "bookworm";
    deb.mirror = "http://deb.debian.org/debian";
    deb.include = bad;
    check(ovz_template_create(root, "deb", &deb) == OVZ_EINVAL &&
              strstr(ovz_error_last()->message, "bad package name '-bad'"),
          "template_create refuses a package name that debootstrap would take for an option");
    check(ovz_template_list(root, &names) == 0 && names && !strstr(names, "deb\n"),
          "a refused template_create leaves no template");
    ovz_string_free(names);
  }

  {
    const char *const init[] = {"/bin/sh", "-c", "test $$ = 1 && exit 42", NULL};
    char *conf = NULL, *params = NULL, *plan = NULL;
    check(ovz_ve_run(ve, init, &code) == 0 && code == 42 && ovz_ve_status(ve, &st) == 0 &&
              st.state == OVZ_STATE_STOPPED,
          "run: the command is PID 1, its exit code comes back, the VE stops");
    check(ovz_ve_config(ve, &conf) == 0 && conf && strstr(conf, "NUMPROC=\"64:64\"") &&
              strstr(conf, "OSTEMPLATE=\"busybox\""),
          "config is CTID.conf's text");
    check(ovz_ve_params(ve, &params) == 0 && params && strstr(params, "NUMPROC=\"64:64\"") &&
              strstr(params, "CPUUNITS=\"2000\"") && !strstr(params, "OSTEMPLATE"),
          "params are the saved resource settings only");
    check(ovz_ve_plan(ve, &plan) == 0 && plan && strstr(plan, "init         /sbin/init\n") &&
              strstr(plan, "storage      overlay lower="),
          "plan is what start would do, as text");
    check(ovz_ve_plan(NULL, &plan) == OVZ_EINVAL, "plan of no VE is EINVAL");
    {
      ovz_start_options start = OVZ_START_OPTIONS_INIT;
      const char *const init[] = {"/bin/sh", "-c", "exec sleep 1000", NULL};
      char *with = NULL;
      start.init = init;
      check(ovz_ve_plan_with(ve, &start, &with) == 0 && with &&
                strstr(with, "exec sleep 1000"),
            "plan_with shows the init its options name");
      ovz_string_free(with);
    }
    ovz_string_free(conf);
    ovz_string_free(params);
    ovz_string_free(plan);
  }

destroy:
  stop.fast = 1;
  ovz_ve_stop(ve, &stop); /* after a failed check above the VE may still run */
  check(ovz_ve_destroy(ve) == 0 && ovz_ve_status(ve, &st) == 0 && st.state == OVZ_STATE_ABSENT,
        "destroy");
out:
  ovz_ve_free(ve);
}

static int conf_has(const char *root, unsigned ctid, const char *text) {
  char path[512], line[512];
  int found = 0;
  FILE *f;
  snprintf(path, sizeof path, "%s/conf/%u.conf", root, ctid);
  if (!(f = fopen(path, "r"))) return 0;
  while (!found && fgets(line, sizeof line, f)) found = strstr(line, text) != NULL;
  fclose(f);
  return found;
}

/* A VE in a user namespace: root inside, a range of unprivileged ids on the host. */
static void check_userns(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_ve_t *old = NULL;
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  const char *const uid_map[] = {"/bin/sh", "-c", "id -u; cat /proc/self/uid_map", NULL};
  unsigned inside = 1, outside = 0, count = 0, uid = 1;
  int code = -1;
  char *out = NULL;

  if (!check(ovz_ve_open(&ve, 9390, root) == 0, "open VE 9390")) return;
  create.userns = 1;
  if (!check(ovz_ve_create(ve, &create) == 0, "create with userns")) goto out;
  check(conf_has(root, 9390, "USERNS=\"yes\""), "CTID.conf says USERNS=\"yes\"");
  if (check(ovz_ve_start(ve) == 0, "start the userns VE") &&
      check(ovz_ve_exec_capture(ve, uid_map, &code, &out, NULL) == 0 && code == 0 && out,
            "exec id -u and uid_map")) {
    check(sscanf(out, "%u %u %u %u", &uid, &inside, &outside, &count) == 4 && uid == 0 &&
              inside == 0 && outside >= 100000 && count == 65536,
          "root inside maps to 65536 host ids from 100000 up");
  }
  ovz_string_free(out);
  stop.fast = 1;
  ovz_ve_stop(ve, &stop);
  check(ovz_ve_destroy(ve) == 0, "destroy the userns VE");

  /* A program built against an ovz.h without the field gets a VE without a user namespace. */
  create.size = offsetof(ovz_create_options, userns);
  if (check(ovz_ve_open(&old, 9391, root) == 0 && ovz_ve_create(old, &create) == 0,
            "create with options that end before userns")) {
    check(!conf_has(root, 9391, "USERNS"), "no user namespace for the older options size");
    ovz_ve_destroy(old);
  }
  ovz_ve_free(old);
out:
  ovz_ve_free(ve);
}

/* Limits from a named config sample at create; several settings as one change. */
static void check_samples_and_apply(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_changes_t *changes = NULL;
  char *conf = NULL;

  if (!check(ovz_ve_open(&ve, 11382, root) == 0, "open VE 11382")) return;
  create.config = "nosuch";
  check(ovz_ve_create(ve, &create) == OVZ_ENOTFOUND, "create from a missing sample is OVZ_ENOTFOUND");
  create.config = "light";
  if (!check(ovz_ve_create(ve, &create) == 0, "create from the light sample")) goto out;
  check(ovz_ve_params(ve, &conf) == 0 && conf && strstr(conf, "NUMPROC=\"100:100\""),
        "... has the light sample's numproc");
  ovz_string_free(conf);
  conf = NULL;
  if (!check(ovz_changes_new(&changes) == 0, "changes_new")) goto destroy;
  check(ovz_changes_add(changes, "hostname", "both") == 0 &&
            ovz_changes_add(changes, "numproc", "200") == 0 &&
            ovz_changes_add(changes, "capability", "net_admin:off") == 0 &&
            ovz_changes_add(changes, "stop_timeout", "30") == 0,
        "changes_add of a hostname, a limit, a capability and the stop timeout");
  check(ovz_changes_add(changes, "numproc", "lots") == OVZ_EINVAL,
        "a bad value is refused when added");
  check(ovz_ve_apply(ve, changes, 1) == 0, "apply");
  check(ovz_ve_config(ve, &conf) == 0 && conf && strstr(conf, "HOSTNAME=\"both\"") &&
            strstr(conf, "NUMPROC=\"200:200\"") && strstr(conf, "CAPABILITY=\"net_admin:off\"") &&
            strstr(conf, "STOP_TIMEOUT=\"30\""),
        "... saved all four");
  ovz_string_free(conf);
  ovz_changes_free(changes);
destroy:
  check(ovz_ve_destroy(ve) == 0, "destroy VE 11382");
out:
  ovz_ve_free(ve);
}

/* Host -> VE settings as vzctl's: resolver and onboot through ovz_changes_add(), the
 * hostname into /etc, a user's password, and every VE started and stopped at once. */
static void check_vzctl_settings(const char *root) {
  ovz_ve_t *a = NULL, *b = NULL;
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  ovz_changes_t *changes = NULL;
  ovz_batch_t *batch = NULL;
  const char *const files[] = {"/bin/sh", "-c",
                               "hostname -f; cat /etc/resolv.conf; grep ^dave: /etc/passwd", NULL};
  unsigned id = 0;
  int code = -1, done = -1, failed = -1;
  const char *message = "unset";
  char *out = NULL;

  if (!check(ovz_ve_open(&a, 9700, root) == 0 && ovz_ve_open(&b, 9701, root) == 0,
             "open VEs 9700 and 9701"))
    goto out;
  create.hostname = "mail.example.com";
  if (!check(ovz_ve_create(a, &create) == 0 && ovz_ve_create(b, NULL) == 0, "create both"))
    goto out;
  if (!check(ovz_changes_new(&changes) == 0, "changes_new")) goto destroy;
  check(ovz_changes_add(changes, "nameserver", "192.0.2.53") == 0 &&
            ovz_changes_add(changes, "nameserver", "2001:db8::53") == 0 &&
            ovz_changes_add(changes, "searchdomain", "example.com") == 0 &&
            ovz_changes_add(changes, "onboot", "yes") == 0,
        "changes_add of name servers, a search domain and onboot");
  check(ovz_changes_add(changes, "nameserver", "1.2.3") == OVZ_EINVAL &&
            ovz_changes_add(changes, "onboot", "maybe") == OVZ_EINVAL,
        "a bad name server or onboot is refused when added");
  check(ovz_ve_apply(a, changes, 0) == 0, "apply to the stopped VE");
  check(conf_has(root, 9700, "NAMESERVER=\"192.0.2.53 2001:db8::53\"") &&
            conf_has(root, 9700, "SEARCHDOMAIN=\"example.com\"") &&
            conf_has(root, 9700, "ONBOOT=\"yes\""),
        "... saved as NAMESERVER, SEARCHDOMAIN and ONBOOT");
  ovz_changes_free(changes);
  check(ovz_ve_set_user_password(a, "dave", "pw of dave") == 0,
        "set_user_password adds a user to the stopped VE");
  check(ovz_ve_set_user_password(a, "Dave!", "x") == OVZ_EINVAL &&
            ovz_ve_set_user_password(a, "dave", "") == OVZ_EINVAL,
        "a bad user name or an empty password is OVZ_EINVAL");

  /* Only the ONBOOT VE starts. */
  if (check(ovz_start_all(&batch, root, 1) == 0 && ovz_batch_count(batch) == 1, "start_all onboot")) {
    check(ovz_batch_at(batch, 0, &id, &done, &code, &message) == 0 && id == 9700 && done == 1 &&
              code == 0 && message == NULL,
          "... started VE 9700");
    check(ovz_batch_at(batch, 1, &id, &done, &code, &message) == OVZ_EINVAL,
          "... and has no second entry");
  }
  ovz_batch_free(batch);
  batch = NULL;
  if (check(ovz_ve_exec_capture(a, files, &code, &out, NULL) == 0 && code == 0 && out,
            "exec in the started VE")) {
    check(strcmp(out, "mail.example.com\nsearch example.com\nnameserver 192.0.2.53\n"
                      "nameserver 2001:db8::53\ndave:x:1000:1000::/home/dave:/bin/sh\n") == 0,
          "... its FQDN, resolv.conf and the added user");
  }
  ovz_string_free(out);

  /* Every VE: the running one is left, the other started; then every one stopped. */
  if (check(ovz_start_all(&batch, root, 0) == 0 && ovz_batch_count(batch) == 2, "start_all all")) {
    check(ovz_batch_at(batch, 0, NULL, &done, NULL, NULL) == 0 && done == 0,
          "... left the running VE");
    check(ovz_batch_at(batch, 1, &id, &done, &failed, NULL) == 0 && id == 9701 && done == 1 &&
              failed == 0,
          "... started the other");
  }
  ovz_batch_free(batch);
  batch = NULL;
  stop.fast = 1;
  check(ovz_stop_all(&batch, root, &stop) == 0 && ovz_batch_count(batch) == 2, "stop_all");
  ovz_batch_free(batch);
  batch = NULL;
  check(ovz_stop_all(&batch, root, NULL) == 0 && ovz_batch_count(batch) == 0,
        "stop_all again finds none running");
  ovz_batch_free(batch);
  ovz_batch_free(NULL);
destroy:
  check(ovz_ve_destroy(a) == 0 && ovz_ve_destroy(b) == 0, "destroy VEs 9700 and 9701");
out:
  ovz_ve_free(a);
  ovz_ve_free(b);
}

/* What a log handler received. */
struct log_seen {
  int calls;
  ovz_log_level level;
  char message[512];
};

static void remember_log(ovz_log_level level, const char *message, void *userdata) {
  struct log_seen *seen = userdata;
  seen->calls++;
  seen->level = level;
  snprintf(seen->message, sizeof seen->message, "%s", message);
}

/* A start whose clean-up the kernel refuses (made to through OVZ_TEST_FAULT) tells the log
 * handler, with the handler's userdata. */
static void check_log(const char *root) {
  ovz_ve_t *ve = NULL;
  struct log_seen seen;
  const char *const missing[] = {"/no/such/init", NULL};
  int code = -1;

  memset(&seen, 0, sizeof seen);
  if (!check(ovz_ve_open(&ve, 13210, root) == 0, "open VE 13210")) return;
  if (!check(ovz_ve_create(ve, NULL) == 0, "create VE 13210")) goto out;
  ovz_set_log_handler(remember_log, &seen);
  setenv("OVZ_TEST_FAULT", "clean-up:fail", 1);
  check(ovz_ve_run(ve, missing, &code) != 0, "run of a missing init fails");
  unsetenv("OVZ_TEST_FAULT");
  ovz_set_log_handler(NULL, NULL);
  check(seen.calls == 1 && seen.level == OVZ_LOG_WARNING &&
            strstr(seen.message, "VE 13210: clean-up after the failed start") != NULL,
        "... and the refused clean-up reached the log handler as a warning");
  ovz_ve_stop(ve, NULL); /* takes away what the refused clean-up left */

  {
    ovz_start_options start = OVZ_START_OPTIONS_INIT;
    const char *const init[] = {"/bin/sh", "-c", "exec sleep 1000", NULL};
    const char *const empty[] = {NULL};
    const char *const comm[] = {"/bin/cat", "/proc/1/comm", NULL};
    char *out = NULL;
    start.init = empty;
    check(ovz_ve_start_with(ve, &start) == OVZ_EINVAL, "start_with an empty init is OVZ_EINVAL");
    start.init = init;
    check(ovz_ve_start_with(ve, &start) == 0 &&
              ovz_ve_exec_capture(ve, comm, &code, &out, NULL) == 0 && out &&
              strcmp(out, "sleep\n") == 0,
          "start_with runs the init the options name as PID 1");
    ovz_string_free(out);
    ovz_ve_stop(ve, NULL);
  }
  check(ovz_ve_destroy(ve) == 0, "destroy VE 13210");
out:
  ovz_ve_free(ve);
}

/* Reads what is left in `fd` into `buf` (NUL-terminated) and closes it. */
static void read_all(int fd, char *buf, size_t size) {
  size_t used = 0;
  ssize_t n;
  while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) > 0) used += (size_t)n;
  buf[used] = '\0';
  close(fd);
}

/* ovz_exec_options.started: a caller that signals the command it was told of. */
static void terminate_started(pid_t pid, void *data) {
  *(pid_t *)data = pid;
  kill(pid, SIGTERM);
}

/* exec with an environment, a working directory and descriptors of the caller's; enter with a
 * shell of the caller's choosing on descriptors of the caller's; restart with an init. */
static void check_exec_enter_restart_options(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_exec_options exec = OVZ_EXEC_OPTIONS_INIT;
  ovz_enter_options enter = OVZ_ENTER_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  ovz_start_options start = OVZ_START_OPTIONS_INIT;
  const char *const env[] = {"GREETING=hello", NULL};
  const char *const greet[] = {"/bin/sh", "-c", "echo $GREETING $HOME; pwd; echo oops >&2", NULL};
  const char *const shell[] = {"/bin/sh", NULL};
  const char *const init[] = {"/bin/sh", "-c", "exec sleep 1000", NULL};
  const char *const comm[] = {"/bin/cat", "/proc/1/comm", NULL};
  const char *const script = "echo entered-$((6 * 7))\nexit 5\n";
  char *out = NULL, *err = NULL;
  char seen[4096];
  int code = -1, in[2], piped[2];

  if (!check(ovz_ve_open(&ve, 13801, root) == 0, "open VE 13801")) return;
  if (!check(ovz_ve_create(ve, NULL) == 0 && ovz_ve_start(ve) == 0, "create and start VE 13801"))
    goto destroy;

  exec.env = env;
  exec.cwd = "/etc";
  exec.stdin_fd = exec.stdout_fd = exec.stderr_fd = -1;
  check(ovz_ve_exec_with(ve, greet, &exec, &code, &out, &err) == 0 && code == 0 && out && err &&
            strcmp(out, "hello\n/etc\n") == 0 && strcmp(err, "oops\n") == 0,
        "exec_with runs in the environment and directory its options name, output captured");
  ovz_string_free(out);
  ovz_string_free(err);
  out = err = NULL;

  if (check(pipe(piped) == 0, "pipe")) {
    exec.stdout_fd = piped[1];
    check(ovz_ve_exec_with(ve, greet, &exec, &code, &out, &err) == 0 && code == 0 && !out &&
              err && strcmp(err, "oops\n") == 0,
          "exec_with writes stdout to the caller's descriptor and captures only stderr");
    close(piped[1]);
    read_all(piped[0], seen, sizeof seen);
    check(strcmp(seen, "hello\n/etc\n") == 0, "... which got the command's output");
    ovz_string_free(err);
    err = NULL;
  }
  exec.cwd = "/no/such/dir";
  exec.stdout_fd = -1;
  check(ovz_ve_exec_with(ve, greet, &exec, &code, NULL, NULL) == OVZ_ESYSTEM &&
            ovz_error_last()->sys_errno == ENOENT && strstr(ovz_error_last()->message, "chdir"),
        "exec_with into a missing directory is ENOENT, naming chdir");
  exec.size = 4;
  check(ovz_ve_exec_with(ve, greet, &exec, &code, NULL, NULL) == OVZ_EINVAL,
        "exec options without their size are OVZ_EINVAL");
  {
    const char *const nap[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
    ovz_exec_options told = OVZ_EXEC_OPTIONS_INIT;
    pid_t started = 0;
    told.stdin_fd = told.stdout_fd = told.stderr_fd = -1;
    told.started = terminate_started;
    told.started_data = &started;
    check(ovz_ve_exec_with(ve, nap, &told, &code, NULL, NULL) == 0 && started > 0 &&
              code == 128 + SIGTERM,
          "exec_with's started gets the command's PID, and a signal sent there ends it");
  }

  if (check(pipe(in) == 0 && pipe(piped) == 0, "pipes")) {
    check(write(in[1], script, strlen(script)) == (ssize_t)strlen(script), "script written");
    close(in[1]);
    enter.argv = shell;
    enter.in_fd = in[0];
    enter.out_fd = piped[1];
    check(ovz_ve_enter_with(ve, &enter, &code) == 0 && code == 5,
          "enter_with runs the shell its options name and gives its exit code");
    close(in[0]);
    close(piped[1]);
    read_all(piped[0], seen, sizeof seen);
    check(strstr(seen, "entered-42") != NULL, "... relaying the caller's descriptors");
  }

  stop.fast = 1;
  start.init = init;
  check(ovz_ve_restart_with(ve, &stop, &start) == 0 &&
            ovz_ve_exec_capture(ve, comm, &code, &out, NULL) == 0 && out &&
            strcmp(out, "sleep\n") == 0,
        "restart_with starts the init its options name");
  ovz_string_free(out);

destroy:
  stop.fast = 1;
  ovz_ve_stop(ve, &stop);
  check(ovz_ve_destroy(ve) == 0, "destroy VE 13801");
  ovz_ve_free(ve);
}

/* The console: a connection that gets what the VE writes to /dev/console, and a relay that
 * ends when the detach sequence is typed. */
static void check_console(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_console_options opts = OVZ_CONSOLE_OPTIONS_INIT;
  const char *const say[] = {"/bin/sh", "-c", "echo console-$((6 * 7)) > /dev/console", NULL};
  char seen[4096] = "";
  size_t used = 0;
  int fd = -1, code = -1, detached = -1, in[2], out[2];

  if (!check(ovz_ve_open(&ve, 14610, root) == 0, "open VE 14610")) return;
  if (!check(ovz_ve_create(ve, NULL) == 0, "create VE 14610")) goto free;
  check(ovz_ve_console_open(ve, &fd) == OVZ_ENOTRUNNING,
        "console_open of a stopped VE is OVZ_ENOTRUNNING");
  if (!check(ovz_ve_start(ve) == 0, "start VE 14610")) goto destroy;
  if (check(ovz_ve_console_open(ve, &fd) == 0 && fd >= 0, "console_open gives a descriptor")) {
    check(ovz_ve_exec(ve, say, &code) == 0 && code == 0, "echo to /dev/console");
    for (int tries = 0; tries < 100 && !strstr(seen, "console-42"); ++tries) {
      struct pollfd p = {fd, POLLIN, 0};
      ssize_t n;
      if (poll(&p, 1, 100) == 1 && (n = read(fd, seen + used, sizeof seen - 1 - used)) > 0)
        used += (size_t)n;
      seen[used] = '\0';
    }
    check(strstr(seen, "console-42") != NULL, "... and the console's output arrives on it");
    close(fd);
  }
  if (check(pipe(in) == 0 && pipe(out) == 0, "pipes")) {
    check(write(in[1], "\x1b.", 2) == 2, "detach sequence written");
    opts.in_fd = in[0];
    opts.out_fd = out[1];
    check(ovz_ve_console(ve, &opts, &detached) == 0 && detached == 1,
          "console relays until the detach sequence");
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
  }
destroy:
  ovz_ve_stop(ve, NULL);
  check(ovz_ve_destroy(ve) == 0, "destroy VE 14610");
free:
  ovz_ve_free(ve);
}

/* A suspended VE says so in its status and refuses commands at once, until resumed; a stop
 * resumes it first. */
static void check_suspend(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_ve_status_t st;
  const char *const echo[] = {"/bin/echo", "hi", NULL};
  char *out = NULL;
  int code = -1;

  if (!check(ovz_ve_open(&ve, 18110, root) == 0, "open VE 18110")) return;
  if (!check(ovz_ve_create(ve, NULL) == 0, "create VE 18110")) goto free;
  check(ovz_ve_suspend(ve) == OVZ_ENOTRUNNING, "suspend of a stopped VE is OVZ_ENOTRUNNING");
  if (!check(ovz_ve_start(ve) == 0, "start VE 18110")) goto destroy;
  check(ovz_ve_suspend(ve) == 0 && ovz_ve_suspend(ve) == 0, "suspend, twice");
  check(ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.state == OVZ_STATE_RUNNING &&
            st.suspended == 1,
        "the status of a suspended VE: running, suspended");
  check(ovz_ve_exec_capture(ve, echo, &code, &out, NULL) == OVZ_ESUSPENDED &&
            strstr(ovz_error_last()->message, "resume") != NULL,
        "exec in a suspended VE is OVZ_ESUSPENDED, telling to resume it");
  check(ovz_ve_resume(ve) == 0 && ovz_ve_resume(ve) == 0, "resume, twice");
  check(ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.suspended == 0,
        "... and the status is no longer suspended");
  check(ovz_ve_exec_capture(ve, echo, &code, &out, NULL) == 0 && code == 0 &&
            strcmp(out, "hi\n") == 0,
        "... and exec runs again");
  ovz_string_free(out);
  check(ovz_ve_suspend(ve) == 0 && ovz_ve_stop(ve, NULL) == 0 &&
            ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.state == OVZ_STATE_STOPPED &&
            st.suspended == 0,
        "stop of a suspended VE stops it");
destroy:
  ovz_ve_stop(ve, NULL);
  check(ovz_ve_destroy(ve) == 0, "destroy VE 18110");
free:
  ovz_ve_free(ve);
}

/* Migrates `ve` to a receiver in a child process, as another host's would be, taking it
 * into `to`: true when ovz_ve_migrate returned `sent` and ovz_receive_ve `received` (and on
 * success the CTID `id`). ovz_error_last() is still the migration's. */
static int migrate_to_child(ovz_ve_t *ve, const char *to, int sent, int received, unsigned id) {
  int pair[2], status = -1, got_sent;
  unsigned got = 0;
  pid_t receiver;

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 0;
  receiver = fork();
  if (receiver == 0) {
    const int rc = ovz_receive_ve(pair[1], to, &got);
    _exit(rc == received && (rc != 0 || got == id) ? 0 : 1);
  }
  close(pair[1]);
  got_sent = ovz_ve_migrate(ve, pair[0], NULL);
  close(pair[0]);
  return waitpid(receiver, &status, 0) == receiver && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0 && got_sent == sent;
}

/* Reads exactly `n` bytes: 0, or -1 at the end of the stream or an error. */
static int read_full(int fd, unsigned char *p, size_t n) {
  while (n > 0) {
    const ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* A receiver whose last answer is lost: it says ready to the hello, takes every frame (a
 * little-endian u32 type and u64 length, then the payload) up to done (7), and goes away. */
static void take_all_and_vanish(int fd) {
  static const unsigned char ready[12] = {2};
  unsigned char head[12], buf[65536];
  int frames = 0;

  for (;;) {
    uint64_t len = 0;
    if (read_full(fd, head, sizeof head) != 0) break;
    for (int i = 11; i >= 4; --i) len = len << 8 | head[i];
    for (uint64_t left = len; left > 0;) {
      const size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
      if (read_full(fd, buf, n) != 0) _exit(1);
      left -= n;
    }
    if (frames++ == 0 && write(fd, ready, sizeof ready) != (ssize_t)sizeof ready) _exit(1);
    if (head[0] == 7) break;
  }
  _exit(0);
}

/* A receiver that hangs: it says ready to the hello, then neither reads nor speaks. */
static void answer_ready_then_hang(int fd) {
  static const unsigned char ready[12] = {2};
  unsigned char head[12], buf[65536];
  uint64_t len = 0;
  if (read_full(fd, head, sizeof head) != 0) _exit(1);
  for (int i = 11; i >= 4; --i) len = len << 8 | head[i];
  if (len > sizeof buf || read_full(fd, buf, (size_t)len) != 0) _exit(1);
  if (write(fd, ready, sizeof ready) != (ssize_t)sizeof ready) _exit(1);
  for (;;) pause();
}

/* A running VE moves to another state root; a second move there is refused (the CTID is
 * taken) and leaves the VE running where it is; a move whose answer is lost leaves it
 * stopped here (OVZ_EINDOUBT), never running in two places. */
static void check_migrate(const char *root) {
  ovz_ve_t *ve = NULL, *there = NULL;
  ovz_ve_status_t st;
  char to[4096];

  snprintf(to, sizeof to, "%s/to", root);
  if (!check(mkdir(to, 0711) == 0, "make a second state root")) return;
  if (!check(ovz_ve_open(&ve, 18111, root) == 0, "open VE 18111")) return;
  if (!check(ovz_ve_create(ve, NULL) == 0 && ovz_ve_start(ve) == 0, "create and start 18111"))
    goto free;
  check(migrate_to_child(ve, to, 0, 0, 18111),
        "ovz_ve_migrate to the other root, where ovz_receive_ve took VE 18111");
  check(ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.state == OVZ_STATE_ABSENT,
        "... and it is gone from here");
  if (!check(ovz_ve_open(&there, 18111, to) == 0, "open VE 18111 there")) goto destroy;
  check(ovz_ve_get_status(there, &st, sizeof st) == 0 && st.state == OVZ_STATE_RUNNING,
        "... where it runs");

  /* Back into a root that has it now: refused, nothing moves. */
  if (check(ovz_ve_create(ve, NULL) == 0 && ovz_ve_start(ve) == 0, "create and start it here again")) {
    check(migrate_to_child(ve, to, OVZ_EPEER, OVZ_EEXIST, 18111) &&
              strstr(ovz_error_last()->message, "exists in") != NULL,
          "a target that has the CTID refuses (OVZ_EEXIST there): OVZ_EPEER with its reason");
    check(ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.state == OVZ_STATE_RUNNING,
          "... and the VE runs on here");
    /* Options a newer libovz knows (a field set past this one's struct): refused before
     * the stream is touched. */
    struct {
      ovz_migrate_options known;
      int later;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.known.size = sizeof newer;
    newer.later = 1;
    check(ovz_ve_migrate(ve, -1, &newer.known) == OVZ_EUNSUPPORTED &&
              ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.state == OVZ_STATE_RUNNING,
          "migrate options with a field this libovz does not know: OVZ_EUNSUPPORTED, the VE "
          "runs on");
    ovz_migrate_options offline = OVZ_MIGRATE_OPTIONS_INIT;
    int pair[2], status = -1;
    if (check(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0, "a socket pair")) {
      const pid_t vanishing = fork();
      if (vanishing == 0) take_all_and_vanish(pair[1]);
      close(pair[1]);
      check(ovz_ve_migrate(ve, pair[0], &offline) == OVZ_EINDOUBT &&
                strstr(ovz_error_last()->message, "may run there") != NULL,
            "a target whose answer never comes: OVZ_EINDOUBT");
      close(pair[0]);
      waitpid(vanishing, &status, 0);
      check(ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.state == OVZ_STATE_STOPPED,
            "... and the VE is left stopped here");
    }
    ovz_migrate_options patient = OVZ_MIGRATE_OPTIONS_INIT;
    patient.timeout_ms = 1000;
    if (check(ovz_ve_start(ve) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0,
              "started again, and a socket pair")) {
      /* A few KiB in flight: the VE's files cannot all go into the buffers, as over a
       * long link. */
      const int bytes = 4096;
      setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
      const pid_t hung = fork();
      if (hung == 0) answer_ready_then_hang(pair[1]);
      close(pair[1]);
      check(ovz_ve_migrate(ve, pair[0], &patient) == OVZ_ETIMEDOUT &&
                strstr(ovz_error_last()->message, "took nothing") != NULL,
            "a target that hangs, with timeout_ms: OVZ_ETIMEDOUT");
      close(pair[0]);
      kill(hung, SIGKILL);
      waitpid(hung, &status, 0);
      check(ovz_ve_get_status(ve, &st, sizeof st) == 0 && st.state == OVZ_STATE_RUNNING,
            "... and the VE runs here again");
    }
  }
  ovz_ve_stop(there, NULL);
  check(ovz_ve_destroy(there) == 0, "destroy VE 18111 there");
  ovz_ve_free(there);
destroy:
  ovz_ve_stop(ve, NULL);
  ovz_ve_destroy(ve);
free:
  ovz_ve_free(ve);
}

/* A fork bomb in a VE (more processes than its numproc allows) reaches a failcnt watcher:
 * each growth once, in order, and the watcher's descriptor readable while an event waits. */
static void check_ubc_watch(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_ubc_watch_t *watch = NULL;
  ovz_ubc_watch_options opts = OVZ_UBC_WATCH_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  ovz_ubc_event ev;
  ovz_ubc_stat stats[64];
  const ovz_ubc_stat *numproc;
  size_t count = 0;
  struct pollfd p;
  uint64_t seen = 0;
  int code = -1, events = 0, chained = 1;
  const char *const bomb[] = {"/bin/sh", "-c", "for i in $(seq 15); do sleep 1 & done; wait",
                              NULL};

  check(ovz_ubc_watch_fd(NULL) == -1, "ubc_watch_fd(NULL) is -1");
  ovz_ubc_watch_free(NULL);
  if (!check(ovz_ve_open(&ve, 13800, root) == 0, "open VE 13800")) return;
  if (!check(ovz_ve_create(ve, NULL) == 0 && ovz_ve_start(ve) == 0, "create and start VE 13800"))
    goto destroy;
  opts.poll_interval_ms = 0;
  check(ovz_ubc_watch_open(&watch, ve, &opts) == OVZ_EINVAL && watch == NULL,
        "a watch that polls every 0 ms is OVZ_EINVAL");
  opts.poll_interval_ms = 200;
  if (!check(ovz_ubc_watch_open(&watch, ve, &opts) == 0 && watch != NULL, "ubc_watch_open"))
    goto destroy;
  check(ovz_ubc_watch_next(watch, 300, &ev, sizeof ev) == OVZ_ETIMEDOUT,
        "no event before anything is refused: OVZ_ETIMEDOUT");
  p.fd = ovz_ubc_watch_fd(watch);
  p.events = POLLIN;
  check(p.fd >= 0 && poll(&p, 1, 0) == 0, "... and the descriptor is not readable");

  check(ovz_ve_set_param(ve, "numproc", "10", 0) == 0 &&
            ovz_ve_exec_capture(ve, bomb, &code, NULL, NULL) == 0,
        "a fork bomb runs into numproc 10");
  check(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "the descriptor becomes readable");
  check(ovz_ubc_watch_next(watch, 0, &ev, 0) == OVZ_EINVAL, "next into size 0 is OVZ_EINVAL");
  while (ovz_ubc_watch_next(watch, 1000, &ev, sizeof ev) == 0) {
    chained &= ev.ctid == 13800 && strcmp(ev.resource, "numproc") == 0 &&
               ev.previous == seen && ev.failcnt > ev.previous;
    seen = ev.failcnt;
    ++events;
  }
  check(ovz_error_last()->code == OVZ_ETIMEDOUT, "events are read until none is left");
  check(events > 0 && chained, "numproc events of VE 13800, each starting where the last ended");
  numproc = ovz_ve_beancounters(ve, stats, sizeof stats[0], 64, &count) == 0
                ? find_stat(stats, count, "numproc")
                : NULL;
  check(numproc && numproc->failcnt > 0 && numproc->failcnt == seen,
        "... up to the VE's failcnt");
  ovz_ubc_watch_free(watch);

destroy:
  stop.fast = 1;
  ovz_ve_stop(ve, &stop);
  check(ovz_ve_destroy(ve) == 0, "destroy VE 13800");
  ovz_ve_free(ve);
}

int main(void) {
  char root[] = "/tmp/ovz-c-api-XXXXXX";

  const int started = start_as_root(root);
  if (started != 0) return started;
  check_without_ve(root);
  check_life(root);
  check_samples_and_apply(root);
  check_vzctl_settings(root);
  check_log(root);
  check_exec_enter_restart_options(root);
  check_ubc_watch(root);
  check_console(root);
  check_suspend(root);
  check_migrate(root);
  chmod(root, 0711); /* a userns VE's root walks to its mount point as an unprivileged uid */
  check_userns(root);
  return finish(root);
}
