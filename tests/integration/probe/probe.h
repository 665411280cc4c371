/* The escape probe: a static program run as root inside a VE that tries, one by one, what
 * must never work there. Each attempt prints one line, "<name> ok" when the kernel refused
 * and "<name> ESCAPED" when it allowed it; the exit status is 1 when anything escaped. */
#ifndef OVZ_ESCAPE_PROBE_H
#define OVZ_ESCAPE_PROBE_H

#include <stddef.h>

/* Reports an attempt: rc 0 means the kernel allowed it. */
void refused(const char *name, int rc);
/* Reports an attempt whose success is judged by the caller. */
void verdict(const char *name, int escaped_now, const char *why);
int probe_escaped(void);
/* Writes `size` bytes to a file; 0 on success, -1 with errno. */
int write_value(const char *path, const char *value, size_t size);
/* Writes a kernel knob's current value back: harmless if it escapes, refused when the knob is
 * read-only. */
int write_back(const char *path);

/* The modes, one per concept: syscalls and kernel knobs; processes outside the VE (and a
 * process of its own to hold a secret for them); the filesystem root; a user namespace. */
void probe_syscalls(void);
void probe_processes(int argc, char **argv);
void probe_hold(void);
void probe_root(const char *host_marker);
void probe_userns(void);
/* Resources a VE's limits cap: pseudo-terminals; a PID namespace nested in the VE's. */
void probe_ptys(int want, int hold);
void probe_nested_init(void);

#endif
