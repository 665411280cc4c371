/* OCI containers through the C ABI: create from a bundle of the host's static busybox, state
 * as JSON, start, exec waited for and detached, pids, pause and resume, update, kill, delete,
 * a cgroupsPath, a joined user namespace, and the refusals. Prints one TAP line per check;
 * exits 1 on any failure, 77 (ctest: skipped) when not root. The runtime's state root is the test's own. */
#define _XOPEN_SOURCE 700 /* mkdtemp, symlink */

#include <ovz.h>

#include "tap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The bundle `dir`: rootfs/ with busybox, and config.json running `script` with sh. */
static int make_bundle(const char *dir, const char *script) {
  char path[700], cmd[4096];
  FILE *f;
  snprintf(cmd, sizeof cmd,
           "mkdir -p %s/rootfs/bin %s/rootfs/proc %s/rootfs/dev && cp /bin/busybox %s/rootfs/bin/ && "
           "for a in sh sleep echo cat; do ln -sf busybox %s/rootfs/bin/$a; done",
           dir, dir, dir, dir, dir);
  if (system(cmd) != 0) return 0;
  snprintf(path, sizeof path, "%s/config.json", dir);
  if (!(f = fopen(path, "w"))) return 0;
  fprintf(f,
          "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},\n"
          " \"process\": {\"args\": [\"/bin/sh\", \"-c\", \"%s\"], \"env\": [\"PATH=/bin\"],"
          " \"cwd\": \"/\"},\n"
          " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}],\n"
          " \"annotations\": {\"org.openvz.ubc.numproc\": \"20:20\"},\n"
          " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"},"
          " {\"type\": \"ipc\"}, {\"type\": \"uts\"}]}}\n",
          script);
  return fclose(f) == 0;
}

int main(void) {
  char root[] = "/tmp/ovz-c-oci-XXXXXX";
  char bundle[256], rootfs[300];
  ovz_oci_t *c = NULL, *again = NULL;
  char *json = NULL;
  int pids[16], pid = 0, code = -1, fds[2];
  size_t count = 0;
  ovz_oci_io io = OVZ_OCI_IO_INIT;

  const int started = start_as_root(root);
  if (started != 0) return started;
  snprintf(bundle, sizeof bundle, "%s/bundle", root);
  check(make_bundle(bundle, "exec sleep 30"), "a bundle of busybox");

  check(ovz_oci_create(&c, root, "c-1", bundle, NULL) == 0 && c && ovz_oci_ctid(c) > 0,
        "ovz_oci_create makes the container, a VE");
  snprintf(rootfs, sizeof rootfs, "\"rootfs\": \"%s/rootfs\"", bundle);
  check(ovz_oci_state(c, &json) == 0 && json && strstr(json, "\"status\": \"created\"") &&
            strstr(json, "\"org.openvz.ubc.numproc\": \"20:20\"") && strstr(json, rootfs),
        "ovz_oci_state gives runc's JSON: created, its root, the annotations");
  ovz_string_free(json);
  json = NULL;
  check(ovz_oci_list(root, &json) == 0 && json && strcmp(json, "c-1\n") == 0,
        "ovz_oci_list names it");
  ovz_string_free(json);
  json = NULL;
  check(ovz_oci_create(&again, root, "c-1", bundle, NULL) == OVZ_EEXIST && !again,
        "an ID in use is OVZ_EEXIST");
  check(ovz_oci_create(&again, root, "../x", bundle, NULL) == OVZ_EINVAL,
        "a bad ID is OVZ_EINVAL");
  check(ovz_oci_start(c) == 0, "ovz_oci_start lets it run");
  check(ovz_oci_state(c, &json) == 0 && strstr(json, "\"status\": \"running\""), "... running");
  ovz_string_free(json);

  check(pipe(fds) == 0, "a pipe for exec's output");
  io.pass_fds = &fds[1];
  io.pass_fd_count = 1;
  check(ovz_oci_exec(c, "{\"args\": [\"/bin/sh\", \"-c\", \"echo in >&3; exit 6\"], \"cwd\": \"/\"}",
                     &io, 0, NULL, &code) == 0 && code == 6,
        "ovz_oci_exec waits and gives the exit status");
  io.listen_fd_count = 1;
  check(ovz_oci_exec(c, "{\"args\": [\"/bin/sh\", \"-c\", \"echo $LISTEN_FDS $LISTEN_PID >&3\"], "
                        "\"cwd\": \"/\"}", &io, 0, NULL, &code) == 0 && code == 0,
        "ovz_oci_exec passes a socket of systemd's");
  io.listen_fd_count = 2;
  check(ovz_oci_exec(c, "{\"args\": [\"/bin/true\"], \"cwd\": \"/\"}", &io, 0, NULL, &code) ==
            OVZ_EINVAL,
        "more listening sockets than descriptors passed is OVZ_EINVAL");
  io.listen_fd_count = 0;
  io.pass_fd_count = 0;
  close(fds[1]);
  {
    char buf[16] = {0};
    check(read(fds[0], buf, sizeof buf - 1) == 7 && strcmp(buf, "in\n1 1\n") == 0,
          "... its output came through the descriptor passed as its 3, LISTEN_FDS=1 and "
          "LISTEN_PID=1 told");
    close(fds[0]);
  }
  check(ovz_oci_exec(c, "{\"args\": [\"/bin/sleep\", \"30\"], \"cwd\": \"/\"}", NULL, 1, &pid,
                     NULL) == 0 && pid > 0,
        "ovz_oci_exec detached gives the PID");
  check(ovz_oci_pids(c, pids, 16, &count) == 0 && count == 2 &&
            (pids[0] == pid || pids[1] == pid),
        "ovz_oci_pids lists init and the exec'd process");
  check(ovz_oci_exec(c, "{\"args\": []}", NULL, 1, &pid, NULL) == OVZ_EBADCONFIG,
        "a process without args is OVZ_EBADCONFIG");
  check(ovz_oci_pause(c) == 0 && ovz_oci_state(c, &json) == 0 &&
            strstr(json, "\"status\": \"paused\"") && ovz_oci_resume(c) == 0,
        "ovz_oci_pause and ovz_oci_resume");
  ovz_string_free(json);
  check(ovz_oci_update(c, "{\"pids\": {\"limit\": 30}}") == 0, "ovz_oci_update");
  check(ovz_oci_update(c, "{\"pids\": {\"limit\": \"many\"}}") == OVZ_EBADCONFIG,
        "... refuses a bad value");
  check(ovz_oci_delete(c, 0) == OVZ_ERUNNING, "a running container is not deleted unforced");
  check(ovz_oci_kill(c, SIGKILL, 1) == 0, "ovz_oci_kill --all");
  check(ovz_oci_delete(c, 1) == 0, "ovz_oci_delete");
  ovz_oci_free(c);
  check(ovz_oci_open(&c, root, "c-1") == OVZ_ENOTFOUND && !c, "deleted: OVZ_ENOTFOUND");
  check(ovz_oci_list(root, &json) == 0 && json && strcmp(json, "") == 0, "... and lists none");
  ovz_string_free(json);

  /* linux.cgroupsPath: the container's cgroup is where the bundle names it. */
  {
    char cg[64], cmd[1024], line[256], want[80];
    const char *at;
    FILE *f;
    int found = 0;
    snprintf(cg, sizeof cg, "/ovz-c-cgpath-%d/c", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "sed -i 's|\"linux\": {|\"linux\": {\"cgroupsPath\": \"%s\", |' %s/config.json", cg,
             bundle);
    check(system(cmd) == 0, "a bundle with a cgroupsPath");
    check(ovz_oci_create(&c, root, "c-2", bundle, NULL) == 0 && ovz_oci_start(c) == 0 &&
              ovz_oci_state(c, &json) == 0 && (at = strstr(json, "\"pid\": ")) != NULL,
          "... runs");
    snprintf(cmd, sizeof cmd, "/proc/%d/cgroup", atoi(at + 7));
    ovz_string_free(json);
    snprintf(want, sizeof want, ":%s\n", cg);
    if ((f = fopen(cmd, "r"))) {
      while (fgets(line, sizeof line, f)) found |= strstr(line, want) != NULL;
      fclose(f);
    }
    check(found, "... in that cgroup");
    check(ovz_oci_kill(c, SIGKILL, 1) == 0 && ovz_oci_delete(c, 1) == 0, "... and is deleted");
    ovz_oci_free(c);
    snprintf(cmd, sizeof cmd,
             "for d in /sys/fs/cgroup/ovz-c-cgpath-%d /sys/fs/cgroup/*/ovz-c-cgpath-%d; do "
             "[ ! -d $d ] || rmdir $d; done", (int)getpid(), (int)getpid());
    check(system(cmd) == 0, "... leaving the parent named, removed here");
  }
  /* A user namespace made before it, joined as a pod's containers join theirs. */
  {
    char dir[] = "/tmp/ovz-c-userns-XXXXXX", userns[64], ours[64], theirs[64], cmd[1024];
    char line[256], *text = NULL;
    const char *at;
    ssize_t n;
    FILE *f;
    int found = 0;
    const pid_t holder = fork();
    if (holder == 0) {
      execlp("unshare", "unshare", "--user", "sleep", "60", (char *)NULL);
      _exit(127);
    }
    snprintf(userns, sizeof userns, "/proc/%d/ns/user", (int)holder);
    memset(ours, 0, sizeof ours);
    n = readlink("/proc/self/ns/user", ours, sizeof ours - 1);
    do {
      const struct timespec tick = {0, 10000000};
      nanosleep(&tick, NULL);
      memset(theirs, 0, sizeof theirs);
    } while (n > 0 && readlink(userns, theirs, sizeof theirs - 1) > 0 && strcmp(ours, theirs) == 0);
    snprintf(cmd, sizeof cmd,
             "echo '0 340000 65536' > /proc/%d/uid_map && echo '0 340000 65536' > /proc/%d/gid_map",
             (int)holder, (int)holder);
    check(system(cmd) == 0, "a user namespace held by a process, with its maps");
    /* Its root, host uid 340000, walks to the bundle's root. */
    check(mkdtemp(dir) && chmod(dir, 0755) == 0, "a bundle directory others may enter");
    snprintf(bundle, sizeof bundle, "%s/bundle", dir);
    check(make_bundle(bundle, "exec sleep 30"), "... with a bundle");
    snprintf(cmd, sizeof cmd,
             "sed -i 's|{\"type\": \"uts\"}|{\"type\": \"uts\"}, {\"type\": \"user\", "
             "\"path\": \"%s\"}|' %s/config.json", userns, bundle);
    check(system(cmd) == 0, "... joining that user namespace");
    check(ovz_oci_create(&c, root, "c-3", bundle, NULL) == 0 && ovz_oci_state(c, &text) == 0 &&
              (at = strstr(text, "\"pid\": ")) != NULL,
          "ovz_oci_create makes a container in a user namespace it joins");
    snprintf(cmd, sizeof cmd, "/proc/%d/status", at ? atoi(at + 7) : 0);
    ovz_string_free(text);
    if ((f = fopen(cmd, "r"))) {
      while (fgets(line, sizeof line, f)) found |= strcmp(line, "Uid:\t340000\t340000\t340000\t340000\n") == 0;
      fclose(f);
    }
    check(found, "... whose root it is: host uid 340000");
    check(ovz_oci_kill(c, SIGKILL, 1) == 0 && ovz_oci_delete(c, 1) == 0, "... and is deleted");
    ovz_oci_free(c);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    check(system(cmd) == 0, "... its bundle removed");
  }
  return finish(root);
}
