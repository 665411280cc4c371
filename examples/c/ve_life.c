/* A VE's life through libovz's C ABI: create, start, run ps inside, show the beancounters,
 * stop, destroy. Needs root.
 *
 *   ovz_c_example CTID [STATE_ROOT]     (STATE_ROOT: default $OVZ_ROOT, else /var/lib/ovz)
 */
#include <ovz.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints what failed and the library's reason; returns 1 for main's exit status. */
static int report(const char *what) {
  const ovz_error *e = ovz_error_last();
  fprintf(stderr, "%s: %s (code %d)\n", what, e->message, e->code);
  return 1;
}

static void print_number(uint64_t v) {
  if (v == OVZ_UBC_UNLIMITED)
    printf(" %20s", "unlimited");
  else
    printf(" %20" PRIu64, v);
}

static int print_beancounters(ovz_ve_t *ve) {
  ovz_ubc_stat stats[64];
  size_t count = 0;
  size_t i;

  if (ovz_ve_get_stats(ve, stats, sizeof stats / sizeof stats[0], &count) != 0)
    return report("beancounters");
  if (count > sizeof stats / sizeof stats[0]) count = sizeof stats / sizeof stats[0];
  printf("%-14s %20s %20s %20s %20s %20s\n", "resource", "held", "maxheld", "barrier", "limit",
         "failcnt");
  for (i = 0; i < count; ++i) {
    printf("%-14s", stats[i].resource);
    print_number(stats[i].held);
    print_number(stats[i].maxheld);
    print_number(stats[i].barrier);
    print_number(stats[i].limit);
    print_number(stats[i].failcnt);
    printf("%s\n", stats[i].measured ? "" : "  (not measured here)");
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *const ps[] = {"/bin/sh", "-c", "ps", NULL};
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_ve_t *ve = NULL;
  char *end = NULL;
  unsigned long ctid;
  int code = 0;
  int rc = 0;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s CTID [STATE_ROOT]\n", argv[0]);
    return 2;
  }
  ctid = strtoul(argv[1], &end, 10);
  if (*end != '\0' || ctid > 0xffffffffUL) {
    fprintf(stderr, "%s: not a CTID\n", argv[1]);
    return 2;
  }
  printf("libovz %s\n", ovz_version());
  if (ovz_ve_open(&ve, (unsigned)ctid, argc == 3 ? argv[2] : NULL) != 0) return report("open");

  create.hostname = "c-example";
  if (ovz_ve_create(ve, &create) != 0) {
    rc = report("create");
    goto out;
  }
  if (ovz_ve_start(ve) != 0) {
    rc = report("start");
    goto destroy;
  }
  printf("VE %u running; ps inside:\n", ovz_ve_ctid(ve));
  fflush(stdout); /* ps writes to the same descriptor: keep the order */
  if (ovz_ve_exec(ve, ps, &code) != 0)
    rc = report("exec ps");
  else if (code != 0)
    fprintf(stderr, "ps exited with %d\n", code);
  if (print_beancounters(ve) != 0) rc = 1;
  if (ovz_ve_stop(ve, NULL) != 0) rc = report("stop");
destroy:
  if (ovz_ve_destroy(ve) != 0)
    rc = report("destroy");
  else
    printf("VE %u destroyed\n", ovz_ve_ctid(ve));
out:
  ovz_ve_free(ve);
  return rc;
}
