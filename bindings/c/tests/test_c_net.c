/* VE networking through the C ABI, inside a network namespace this program makes for itself
 * first, so that nothing it does reaches a real interface: two VEs with routed addresses ping
 * each other through the (namespace's) host, a bridged device appears in a VE, and bad input
 * is refused. Prints TAP lines; exits 1 on any failure, 77 (skipped) when not root or without
 * network namespaces. CTIDs 9350-9399, 11720. */
#define _GNU_SOURCE /* unshare, mkdtemp */

#include <ovz.h>

#include "tap.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs a shell line in the VE; its exit code, and its stdout in *out (freed by the caller). */
static int sh(ovz_ve_t *ve, const char *line, char **out) {
  const char *const argv[] = {"/bin/sh", "-c", line, NULL};
  int code = -1;
  char *captured = NULL;
  if (ovz_ve_exec_capture(ve, argv, &code, &captured, NULL) != 0) return -1;
  if (out)
    *out = captured;
  else
    ovz_string_free(captured);
  return code;
}

static int contains(const char *text, const char *needle) {
  return text && strstr(text, needle) != NULL;
}

static void check_network(const char *root) {
  ovz_ve_t *a = NULL, *b = NULL;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  char *text = NULL;

  if (!check(ovz_ve_open(&a, 9350, root) == 0 && ovz_ve_open(&b, 9351, root) == 0,
             "open two VEs"))
    return;
  check(ovz_ve_create(a, NULL) == 0 && ovz_ve_create(b, NULL) == 0, "create them");
  check(ovz_ve_add_ip(a, "10.93.50.1", 1) == 0, "add_ip to a stopped VE, saved");
  check(ovz_ve_add_ip(b, "10.93.51.1", 1) == 0, "... and to the other");
  check(ovz_ve_add_netif(a, "eth0", 1) == 0, "add_netif with defaults");
  check(ovz_ve_network(a, &text) == 0 && contains(text, "IP_ADDRESS=\"10.93.50.1\"") &&
            contains(text, "NETIF=\"ifname=eth0,mac=02:") &&
            contains(text, "host_ifname=veth9350.0"),
        "ovz_ve_network gives IP_ADDRESS and NETIF with the defaults filled in");
  ovz_string_free(text);
  text = NULL;
  check(ovz_ve_get_ip(a, 0, &text) == 0 && text && strcmp(text, "10.93.50.1") == 0,
        "get_ip gives the first address");
  ovz_string_free(text);
  text = NULL;
  check(ovz_ve_get_ip(a, 1, &text) == OVZ_ENOTFOUND && text == NULL,
        "... and OVZ_ENOTFOUND past the last");
  check(ovz_ve_get_netif(a, 0, &text) == 0 && text && strncmp(text, "eth0,02:", 8) == 0,
        "get_netif gives the device in the comma form");
  ovz_string_free(text);
  text = NULL;

  check(ovz_ve_add_ip(a, "10.93.51.1", 1) == OVZ_EEXIST &&
            contains(ovz_error_last()->message, "already used by VE 9351"),
        "an address of another VE is OVZ_EEXIST naming it");
  check(ovz_ve_add_ip(a, "10.93.300.1", 1) == OVZ_EINVAL &&
            contains(ovz_error_last()->message, "Invalid IP address"),
        "a malformed address is OVZ_EINVAL");
  check(ovz_ve_add_netif(a, "eth1,not-a-mac", 1) == OVZ_EINVAL, "a malformed MAC is OVZ_EINVAL");
  check(ovz_ve_del_netif(a, "eth9", 1) == OVZ_ENOTFOUND, "an unknown device is OVZ_ENOTFOUND");
  check(ovz_ve_add_ip(NULL, "10.0.0.1", 0) == OVZ_EINVAL, "NULL ve is OVZ_EINVAL");

  if (!check(ovz_ve_start(a) == 0 && ovz_ve_start(b) == 0, "start both")) return;
  check(sh(a, "ip addr show venet0", &text) == 0 && contains(text, "10.93.50.1/32"),
        "the address is on venet0 inside");
  ovz_string_free(text);
  text = NULL;
  check(sh(a, "ip link show eth0", NULL) == 0, "the bridged device is inside");
  check(sh(a, "ping -c 1 -W 5 10.93.51.1", NULL) == 0,
        "one VE pings the other, routed through the host");
  check(ovz_ve_add_ip(a, "10.93.50.2", 0) == 0 &&
            sh(b, "ping -c 1 -W 5 10.93.50.2", NULL) == 0,
        "an address added live answers at once");
  check(ovz_ve_del_ip(a, "10.93.50.2", 0) == 0 &&
            sh(a, "ip addr show venet0", &text) == 0 && !contains(text, "10.93.50.2"),
        "del_ip removes it live");
  ovz_string_free(text);
  text = NULL;
  check(ovz_ve_del_netif(a, "eth0", 0) == 0 && sh(a, "ip link show eth0", NULL) != 0,
        "del_netif removes the device live");
  check(ovz_ve_del_all_ips(b, 1) == 0 && ovz_ve_network(b, &text) == 0 &&
            !contains(text, "IP_ADDRESS"),
        "del_all_ips with save empties IP_ADDRESS");
  ovz_string_free(text);

  stop.fast = 1;
  check(ovz_ve_stop(a, &stop) == 0 && ovz_ve_stop(b, &stop) == 0, "stop both");
  check(ovz_ve_destroy(a) == 0 && ovz_ve_destroy(b) == 0, "destroy both");
  ovz_ve_free(a);
  ovz_ve_free(b);
}

/* Network changes in one ovz_ve_apply() with a hostname: made together, and a refused part
 * undoes the deletions already made live. */
static void check_apply(const char *root) {
  ovz_ve_t *ve = NULL;
  ovz_changes_t *changes = NULL;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  char *text = NULL;

  if (!check(ovz_ve_open(&ve, 11720, root) == 0 && ovz_ve_create(ve, NULL) == 0 &&
                 ovz_ve_start(ve) == 0,
             "a running VE for apply"))
    goto out;
  if (!check(ovz_changes_new(&changes) == 0, "changes_new")) goto out;
  check(ovz_changes_add(changes, "hostname", "cnet") == 0 &&
            ovz_changes_add(changes, "ipadd", "10.117.20.1") == 0 &&
            ovz_changes_add(changes, "ipadd", "fd00:117:20::1") == 0 &&
            ovz_changes_add(changes, "netif_add", "eth0") == 0,
        "changes_add of a hostname, two addresses and a device");
  check(ovz_changes_add(changes, "ipadd", "10.117.300.1") == OVZ_EINVAL &&
            ovz_changes_add(changes, "netif_add", "eth1,not-a-mac") == OVZ_EINVAL,
        "a malformed address or device is refused by changes_add");
  check(ovz_ve_apply(ve, changes, 1) == 0, "apply");
  check(sh(ve, "hostname; ip addr show venet0; ip link show eth0", &text) == 0 &&
            contains(text, "cnet") && contains(text, "10.117.20.1/32") &&
            contains(text, "fd00:117:20::1/128"),
        "hostname, addresses and device are live");
  ovz_string_free(text);
  text = NULL;
  check(ovz_ve_network(ve, &text) == 0 &&
            contains(text, "IP_ADDRESS=\"10.117.20.1 fd00:117:20::1\"") &&
            contains(text, "NETIF=\"ifname=eth0,"),
        "and saved");
  ovz_string_free(text);
  text = NULL;
  ovz_changes_free(changes);
  changes = NULL;

  if (!check(ovz_changes_new(&changes) == 0, "changes_new")) goto out;
  check(ovz_changes_add(changes, "ipdel", "all") == 0 &&
            ovz_changes_add(changes, "netif_del", "eth0") == 0 &&
            ovz_changes_add(changes, "netif_add", "eth1,,,,lo") == 0,
        "changes_add of ipdel all, netif_del and a device in lo, which is no bridge");
  check(ovz_ve_apply(ve, changes, 1) == OVZ_EINVAL &&
            contains(ovz_error_last()->message, "not a bridge"),
        "apply refuses the device after the deletions were made live");
  check(sh(ve, "ip addr show venet0; ip link show eth0 && ! ip link show eth1", &text) == 0 &&
            contains(text, "10.117.20.1/32") && contains(text, "fd00:117:20::1/128"),
        "the deleted addresses and device are back, the refused device absent");
  ovz_string_free(text);
  text = NULL;
  stop.fast = 1;
  check(ovz_ve_stop(ve, &stop) == 0 && ovz_ve_destroy(ve) == 0, "stop and destroy");

out:
  ovz_changes_free(changes);
  ovz_ve_free(ve);
}

int main(void) {
  char root[] = "/tmp/ovz-c-net-XXXXXX";

  const int started = start_as_root(root);
  if (started != 0) return started;
  /* The stand-in host, before any thread exists: unshare moves only the calling thread. */
  if (unshare(CLONE_NEWNET) != 0) {
    printf("SKIPPED: cannot make a network namespace of its own: %s\n", strerror(errno));
    rmdir(root);
    return 77;
  }
  check_network(root);
  check_apply(root);
  return finish(root);
}
