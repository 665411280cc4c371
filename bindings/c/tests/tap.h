/* What the C tests share: TAP output of checks, and removal of their temporary state root. */
#ifndef OVZ_TESTS_TAP_H
#define OVZ_TESTS_TAP_H

/* Prints "ok N - what" or "not ok N - what" with libovz's last error; returns `ok`. */
int check(int ok, const char *what);

/* Removes the tree at `root`, prints the TAP plan, and returns the exit status: 1 when a
 * check failed, 0 otherwise. */
int finish(const char *root);

#endif
