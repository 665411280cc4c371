/* Disk quota through the C ABI: create with a diskspace, ovz_ve_quota, set of the disk
 * settings (grown live, shrunk stopped, refused without an image or for what the kernel cannot
 * do), df inside. Prints one TAP line per check; exits 1 on any failure, 77 (ctest: skipped)
 * when not root; a watch's event of a soft limit crossed. CTIDs 9800-9819. */
#define _XOPEN_SOURCE 700 /* mkdtemp */

#include <ovz.h>

#include "tap.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The 1024-blocks column of `df -P /` inside the running VE; 0 when it cannot be read. */
static unsigned long long df_blocks(ovz_ve_t *ve) {
  const char *const df[] = {"/bin/sh", "-c", "df -P / | tail -n 1", NULL};
  char *out = NULL;
  char device[256];
  unsigned long long blocks = 0;
  int code = -1;
  if (ovz_ve_exec_capture(ve, df, &code, &out, NULL) == 0 && code == 0 && out &&
      sscanf(out, "%255s %llu", device, &blocks) != 2)
    blocks = 0;
  ovz_string_free(out);
  return blocks;
}

/* 1 when a loop device's backing file lies under `root`: a VE's image still attached. */
static int loop_under(const char *root) {
  DIR *d = opendir("/sys/block");
  struct dirent *e;
  char path[512], backing[4096];
  int found = 0;
  if (!d) return 0;
  while (!found && (e = readdir(d))) {
    FILE *f;
    if (strncmp(e->d_name, "loop", 4) != 0) continue;
    snprintf(path, sizeof path, "/sys/block/%s/loop/backing_file", e->d_name);
    if (!(f = fopen(path, "r"))) continue;
    found = fgets(backing, sizeof backing, f) && strncmp(backing, root, strlen(root)) == 0;
    fclose(f);
  }
  closedir(d);
  return found;
}

/* A VE with an image: its limits as created, df inside, grown live, shrunk stopped. */
static void check_image(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  ovz_disk_quota q;
  ovz_changes_t *changes = NULL;
  unsigned long long before = 0, after = 0;
  int rc;

  if (!check(ovz_ve_open(&ve, 9800, root) == 0, "open VE 9800")) return;
  create.diskspace = "100M:120M";
  create.diskinodes = "20000:24000";
  create.quotatime = "600";
  if (!check(ovz_ve_create(ve, &create) == 0, "create with diskspace, diskinodes and quotatime"))
    goto out;
  check(conf_has(root, 9800, "DISKSPACE=\"102400:122880\"") &&
            conf_has(root, 9800, "DISKINODES=\"20000:24000\"") &&
            conf_has(root, 9800, "QUOTATIME=\"600\""),
        "... saved as DISKSPACE, DISKINODES and QUOTATIME");

  memset(&q, 0x55, sizeof q);
  if (check(ovz_ve_quota(ve, &q, sizeof q) == 0, "quota of the stopped VE")) {
    check(q.blocks.soft == 102400 && q.blocks.hard == 122880, "... blocks: soft and hard");
    check(q.inodes.soft == 20000 && q.inodes.hard == 24000, "... inodes: soft and hard");
    check(q.blocks.usage > 0 && q.blocks.usage < q.blocks.hard && q.inodes.usage > 0 &&
              q.inodes.usage < q.inodes.hard,
          "... usage of the template's files, below the limits");
    check(q.blocks.grace == OVZ_QUOTA_NO_GRACE && q.inodes.grace == OVZ_QUOTA_NO_GRACE,
          "... no grace running: no soft limit exceeded");
    check(q.quotatime == 600 && q.soft_enforced == ovz_has_feature("quota"),
          "... quotatime, and soft limits enforced where the kernel keeps quota");
  }

  if (!check(ovz_ve_start(ve) == 0, "start the VE with an image")) goto destroy;
  before = df_blocks(ve);
  check(before > 122880 * 8 / 10 && before <= 122880,
        "df inside shows the image's size, not the host's");
  rc = ovz_ve_set_param(ve, "diskspace", "150M:180M", 1);
  if (rc == OVZ_EUNSUPPORTED) {
    /* The kernel grows a mounted ext4 only for a caller with CAP_SYS_RESOURCE. */
    printf("# no CAP_SYS_RESOURCE: the disk grows only while the VE is stopped\n");
    check(strstr(ovz_error_last()->message, "CAP_SYS_RESOURCE") != NULL &&
              conf_has(root, 9800, "DISKSPACE=\"102400:122880\"") && df_blocks(ve) == before,
          "growing live without CAP_SYS_RESOURCE is refused, saying why, nothing changed");
    stop.fast = 1;
    check(ovz_ve_stop(ve, &stop) == 0 && ovz_ve_set_param(ve, "diskspace", "150M:180M", 0) == 0 &&
              ovz_ve_start(ve) == 0,
          "diskspace grown while stopped");
  } else {
    check(rc == 0, "diskspace grown live");
  }
  after = df_blocks(ve);
  check(after > before + 50 * 1024 && after <= 184320, "... df inside shows it");
  check(ovz_ve_quota(ve, &q, sizeof q) == 0 && q.blocks.hard == 184320 &&
            conf_has(root, 9800, "DISKSPACE=\"153600:184320\""),
        "... quota and CTID.conf say the new size");
  rc = ovz_ve_set_param(ve, "diskspace", "60M:70M", 1);
  check(rc != 0 && rc != OVZ_EINVAL, "shrinking a running VE is refused");
  check(ovz_ve_quota(ve, &q, sizeof q) == 0 && q.blocks.hard == 184320 &&
            conf_has(root, 9800, "DISKSPACE=\"153600:184320\"") && df_blocks(ve) == after,
        "... and changes nothing");
  check(ovz_ve_set_param(ve, "diskspace", "1M", 1) == OVZ_EINVAL &&
            conf_has(root, 9800, "DISKSPACE=\"153600:184320\""),
        "a diskspace below the minimum is OVZ_EINVAL, nothing changed");
  if (!ovz_has_feature("quota")) {
    check(ovz_ve_set_param(ve, "quotaugidlimit", "100", 1) == OVZ_EUNSUPPORTED &&
              !conf_has(root, 9800, "QUOTAUGIDLIMIT=\"100\""),
          "quotaugidlimit above 0 is OVZ_EUNSUPPORTED without the kernel's quota");
    check(strstr(ovz_error_last()->message, "QUOTAUGIDLIMIT") != NULL ||
              strstr(ovz_error_last()->message, "quotaugidlimit") != NULL,
          "... saying which setting");
  }
  {
    const ovz_quota_ugid user = {OVZ_QUOTA_USER, 1000}, bad = {7, 1000};
    size_t count = 0;
    check(ovz_ve_set_ugid_quota(ve, user, "1M", NULL) == OVZ_EUNSUPPORTED &&
              strstr(ovz_error_last()->message, ovz_has_feature("quota") ? "QUOTAUGIDLIMIT"
                                                                         : "quota feature"),
          "a user's limits need the kernel's quota and QUOTAUGIDLIMIT above 0, saying so");
    check(ovz_ve_set_ugid_quota(ve, bad, "1M", NULL) == OVZ_EINVAL,
          "... and a user or a group as the owner");
    rc = ovz_ve_ugid_quotas(ve, NULL, sizeof(ovz_ugid_quota), 0, &count);
    check(ovz_has_feature("quota") ? rc == 0 && count > 0 : rc == OVZ_EUNSUPPORTED,
          "users' and groups' usage listed where the kernel keeps quota, else unsupported");
  }
  stop.fast = 1;
  check(ovz_ve_stop(ve, &stop) == 0, "stop");

  check(ovz_ve_set_param(ve, "diskspace", "60M:70M", 0) == 0, "shrinking the stopped VE");
  check(ovz_ve_quota(ve, &q, sizeof q) == 0 && q.blocks.hard == 71680 &&
            q.blocks.usage < q.blocks.hard && conf_has(root, 9800, "DISKSPACE=\"61440:71680\""),
        "... quota and CTID.conf say the smaller size");
  if (check(ovz_changes_new(&changes) == 0, "changes_new")) {
    check(ovz_changes_add(changes, "diskspace", "80M:90M") == 0 &&
              ovz_changes_add(changes, "quotatime", "60") == 0,
          "changes_add of diskspace and quotatime");
    check(ovz_changes_add(changes, "diskinodes", "10") == OVZ_EINVAL,
          "... a diskinodes below the minimum is refused when added");
    check(ovz_ve_apply(ve, changes, 1) == 0 && ovz_ve_quota(ve, &q, sizeof q) == 0 &&
              q.blocks.hard == 92160 && q.quotatime == 60 &&
              conf_has(root, 9800, "QUOTATIME=\"60\""),
          "apply grows the stopped VE's image and saves quotatime");
  }
  ovz_changes_free(changes);

destroy:
  stop.fast = 1;
  ovz_ve_stop(ve, &stop);
  check(ovz_ve_destroy(ve) == 0, "destroy VE 9800");
  check(!loop_under(root), "... no loop device left on its image");
  check(ovz_ve_quota(ve, &q, sizeof q) < 0, "quota of a destroyed VE fails");
out:
  ovz_ve_free(ve);
}

/* Without a diskspace a VE has no image, so no quota and no disk setting; a bad value at
 * create makes no VE; the struct sizes of older programs. */
static void check_without_image(const char *root) {
  ovz_ve_t *ve = NULL, *bad = NULL, *old = NULL;
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_ve_status_t st;
  ovz_disk_quota q;
  const unsigned char *tail;
  size_t i;
  int untouched = 1;

  if (!check(ovz_ve_open(&ve, 9810, root) == 0 && ovz_ve_open(&bad, 9811, root) == 0 &&
                 ovz_ve_open(&old, 9812, root) == 0,
             "open VEs 9810-9812"))
    goto out;
  check(ovz_ve_quota(ve, NULL, sizeof q) == OVZ_EINVAL, "quota with out NULL is OVZ_EINVAL");
  if (!check(ovz_ve_create(ve, NULL) == 0, "create without a diskspace")) goto out;
  check(ovz_ve_quota(ve, &q, sizeof q) == OVZ_EUNSUPPORTED,
        "quota of a VE without an image is OVZ_EUNSUPPORTED");
  check(ovz_ve_set_param(ve, "quotatime", "60", 1) == OVZ_EUNSUPPORTED &&
            !conf_has(root, 9810, "QUOTATIME"),
        "set quotatime of a VE without an image is OVZ_EUNSUPPORTED, nothing saved");
  check(ovz_ve_set_param(ve, "diskspace", "64M", 1) == 0 && conf_has(root, 9810, "DISKSPACE") &&
            ovz_ve_quota(ve, &q, sizeof q) == 0 && q.blocks.hard == 65536,
        "set diskspace of a stopped VE without an image moves its files onto one");
  check(ovz_ve_destroy(ve) == 0, "destroy VE 9810");

  create.diskspace = "2G:1G";
  check(ovz_ve_create(bad, &create) == OVZ_EINVAL, "create with soft above hard is OVZ_EINVAL");
  create.diskspace = "100M";
  create.diskinodes = "lots";
  check(ovz_ve_create(bad, &create) == OVZ_EINVAL, "... and with a bad diskinodes");
  check(ovz_ve_get_status(bad, &st, sizeof st) == 0 && st.state == OVZ_STATE_ABSENT &&
            !loop_under(root),
        "... which make no VE and no image");

  /* A program built against an ovz.h without the disk fields gets a VE without an image,
   * whatever lies past its struct. */
  create.size = offsetof(ovz_create_options, diskspace);
  if (check(ovz_ve_create(old, &create) == 0, "create with options that end before diskspace")) {
    check(ovz_ve_quota(old, &q, sizeof q) == OVZ_EUNSUPPORTED && !conf_has(root, 9812, "DISK"),
          "... makes a VE without an image");
    ovz_ve_destroy(old);
  }
  create.size = sizeof create;

  /* The quota into an older program's shorter struct: nothing written past it. */
  create.diskinodes = NULL;
  create.diskspace = "32M";
  if (check(ovz_ve_create(ve, &create) == 0, "create VE 9810 again with a diskspace")) {
    memset(&q, 0x55, sizeof q);
    check(ovz_ve_quota(ve, &q, offsetof(ovz_disk_quota, quotatime)) == 0 &&
              q.blocks.hard == 32768,
          "quota into a struct that ends before quotatime");
    tail = (const unsigned char *)&q + offsetof(ovz_disk_quota, quotatime);
    for (i = 0; i < sizeof q - offsetof(ovz_disk_quota, quotatime); ++i)
      untouched = untouched && tail[i] == 0x55;
    check(untouched, "... and nothing past it");
    check(ovz_ve_quota(ve, &q, 0) == OVZ_EINVAL, "quota with size 0 is OVZ_EINVAL");
    check(ovz_ve_destroy(ve) == 0, "destroy VE 9810");
  }
out:
  ovz_ve_free(ve);
  ovz_ve_free(bad);
  ovz_ve_free(old);
}

/* A watch reports the VE's disk usage going above its soft DISKSPACE. */
static void check_soft_event(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  ovz_ubc_watch_options opts = OVZ_UBC_WATCH_OPTIONS_INIT;
  ovz_ubc_watch_t *watch = NULL;
  ovz_ubc_event ev;
  int code = -1;
  const char *const fill[] = {"/bin/sh", "-c", "dd if=/dev/zero of=/big bs=1M count=24; sync",
                              NULL};

  if (!check(ovz_ve_open(&ve, 9801, root) == 0, "open VE 9801")) return;
  create.diskspace = "16M:64M";
  if (!check(ovz_ve_create(ve, &create) == 0 && ovz_ve_start(ve) == 0,
             "create and start VE 9801 with diskspace 16M:64M"))
    goto out;
  opts.poll_interval_ms = 100;
  if (check(ovz_ubc_watch_open(&watch, ve, &opts) == 0, "watch VE 9801")) {
    check(ovz_ubc_watch_next(watch, 300, &ev, sizeof ev) == OVZ_ETIMEDOUT,
          "no event while under the soft limit");
    ovz_ve_exec_capture(ve, fill, &code, NULL, NULL);
    check(ovz_ubc_watch_next(watch, 5000, &ev, sizeof ev) == 0 && ev.ctid == 9801 &&
              strcmp(ev.resource, "diskspace") == 0 && ev.failcnt == 1 && ev.previous == 0,
          "24M written: a diskspace event, the first crossing");
    ovz_ubc_watch_free(watch);
  }
  stop.fast = 1;
  ovz_ve_stop(ve, &stop);
  check(ovz_ve_destroy(ve) == 0, "destroy VE 9801");
out:
  ovz_ve_free(ve);
}

int main(void) {
  char root[] = "/tmp/ovz-c-quota-XXXXXX";

  const int started = start_as_root(root);
  if (started != 0) return started;
  check_without_image(root);
  check_image(root);
  check_soft_event(root);
  return finish(root);
}
