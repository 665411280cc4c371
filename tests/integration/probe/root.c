/* The VE's root is the top of every path a VE process can walk: chroot tricks, "..", the
 * /proc links and the directories it holds open all end there; cgroupfs does not lead out. */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Only the VE's root has this file (the test put it there). */
#define VE_MARKER "/ovz-ve-root-marker"

static struct stat root_st;

static int same(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Follows ".." from a directory until it no longer moves; true if the way up passes the
 * VE's root, i.e. the directory lies within it. */
static int within_root(int dir) {
  struct stat here, up;
  int fd = dup(dir), found = 0;
  for (int i = 0; fd >= 0 && i < 4096 && !found; ++i) {
    int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0 || fstat(fd, &here) != 0 || fstat(parent, &up) != 0) {
      if (parent >= 0) close(parent);
      break;
    }
    close(fd);
    fd = parent;
    found = same(&here, &root_st);
    if (same(&here, &up)) break;
  }
  if (fd >= 0) close(fd);
  return found;
}

/* The classic: chroot into a subdirectory while the working directory stays above it, climb
 * with "..", and chroot to wherever that ends. In a child, which keeps the result. */
static void chroot_escape(const char *host_marker) {
  pid_t pid = fork();
  if (pid == 0) {
    mkdir("/tmp/chroot-escape", 0700);
    if (chroot("/tmp/chroot-escape") != 0) _exit(3);
    for (int i = 0; i < 256; ++i)
      if (chdir("..") != 0) _exit(3);
    if (chroot(".") != 0) _exit(3);
    struct stat now;
    int home = stat("/", &now) == 0 && same(&now, &root_st) && access(VE_MARKER, F_OK) == 0 &&
               access(host_marker, F_OK) != 0;
    _exit(home ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
  verdict("chroot_escape", code == 1,
          code == 0 ? "ended at the VE's root" : code == 3 ? "chroot refused" : "left the root");
}

static void proc_roots(void) {
  struct stat st;
  char link[256] = {0};
  int ok = stat("/proc/1/root/", &st) == 0 && same(&st, &root_st) &&
           readlink("/proc/1/root", link, sizeof link - 1) == 1 && strcmp(link, "/") == 0;
  verdict("proc_1_root", !ok, ok ? "the VE's root" : "elsewhere");
  memset(link, 0, sizeof link);
  ok = stat("/proc/self/root/", &st) == 0 && same(&st, &root_st) &&
       readlink("/proc/self/root", link, sizeof link - 1) == 1 && strcmp(link, "/") == 0;
  verdict("proc_self_root", !ok, ok ? "the VE's root" : "elsewhere");
}

/* Every directory this process holds open (inherited from whoever started it) and its
 * working directory lead up to the VE's root and no further. */
static void open_directories(void) {
  DIR *d = opendir("/proc/self/fd");
  int outside = 0, dirs = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    int fd = atoi(e->d_name);
    struct stat st;
    if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode))
      continue;
    ++dirs;
    if (!within_root(fd)) outside = 1;
  }
  if (d) closedir(d);
  int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0 || !within_root(cwd)) outside = 1;
  verdict("open_directories", outside, dirs ? "inherited directories checked" : "none inherited");
  int slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat up;
  int dotdot = slash >= 0 ? openat(slash, "..", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
  int at_root = dotdot >= 0 && fstat(dotdot, &up) == 0 && same(&up, &root_st);
  verdict("dotdot_of_root", !at_root, at_root ? "stays at /" : "went up");
}

/* True when /proc/self/cgroup puts us above the VE's cgroup in some hierarchy: in the VE's
 * cgroup namespace such a path starts with "/..". */
static int above_own_cgroup(void) {
  FILE *f = fopen("/proc/self/cgroup", "r");
  int above = f == NULL;
  for (char line[512]; f && fgets(line, sizeof line, f);)
    if (strstr(line, ":/..")) above = 1;
  if (f) fclose(f);
  return above;
}

/* Moving into the host's root cgroup would leave the VE's limits. The VE sees its own cgroups
 * at /sys/fs/cgroup, rooted at the VE's: a write to any cgroup.procs there may move us only
 * among them. Mounting another cgroupfs is refused. */
static void cgroups(void) {
  int written = 0;
  const char *tops[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
  char path[512];
  for (size_t i = 0; i < sizeof tops / sizeof *tops; ++i) {
    snprintf(path, sizeof path, "%s/cgroup.procs", tops[i]);
    int fd = open(path, O_WRONLY);
    if (fd >= 0 && write(fd, "0", 1) == 1) written = 1;
    if (fd >= 0) close(fd);
  }
  DIR *d = opendir("/sys/fs/cgroup");
  for (struct dirent *e; d && (e = readdir(d));) {
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/cgroup.procs", e->d_name);
    int fd = e->d_name[0] == '.' ? -1 : open(path, O_WRONLY);
    if (fd >= 0 && write(fd, "0", 1) == 1) written = 1;
    if (fd >= 0) close(fd);
  }
  if (d) closedir(d);
  const int moved_out = above_own_cgroup();
  verdict("cgroup_procs_write", moved_out,
          moved_out ? "moved above the VE's cgroup"
                    : written ? "written, within the VE's cgroups" : "no writable cgroup.procs");
  mkdir("/tmp/cg", 0755);
  refused("cgroup2_mount", mount("cgroup2", "/tmp/cg", "cgroup2", 0, NULL));
  refused("cgroup1_mount", mount("cgroup", "/tmp/cg", "cgroup", 0, "pids"));
  const int above = above_own_cgroup();
  verdict("cgroup_own", above, above ? "above the VE's cgroup" : "within the VE's cgroup");
}

void probe_root(const char *host_marker) {
  if (stat("/", &root_st) != 0 || access(VE_MARKER, F_OK) != 0) {
    verdict("setup", 1, "no " VE_MARKER " at /");
    return;
  }
  verdict("host_marker_hidden", access(host_marker, F_OK) == 0, host_marker);
  chroot_escape(host_marker);
  proc_roots();
  open_directories();
  cgroups();
}
