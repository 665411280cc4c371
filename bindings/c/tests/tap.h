/* What the C tests share: TAP output of checks, and removal of their temporary state root. */
#ifndef OVZ_TESTS_TAP_H
#define OVZ_TESTS_TAP_H

/* Skips the test (77: ctest's skip code) unless it runs as root, then makes the temporary
 * state root from the mkdtemp template `root`; 0 when the test may go on, else its exit
 * status. */
int start_as_root(char *root);

/* Prints "ok N - what" or "not ok N - what" with libovz's last error; returns `ok`. */
int check(int ok, const char *what);

/* Removes the tree at `root`, prints the TAP plan, and returns the exit status: 1 when a
 * check failed, 0 otherwise. */
int finish(const char *root);

#endif
