/*
 * fixture.h - scratch directories for the unit tests that write files
 * (test_extract.c, test_mbox.c): one fresh directory per test program,
 * removed with everything in it at the end, without a shell.
 */
#ifndef POPSIFT_TEST_FIXTURE_H
#define POPSIFT_TEST_FIXTURE_H

#include <stddef.h>

/*
 * Creates a new, empty directory /tmp/popsift-test-NAME.XXXXXX (mode 0700) and
 * writes its path to dir (n bytes). Returns 0, or -1 when it cannot: the
 * return convention of a cmocka group setup.
 */
int fixture_dir_create(const char *name, char *dir, size_t n);

/*
 * Removes dir and everything under it; symbolic links are removed, never
 * followed (the tests plant some). Returns 0, or -1 when something stayed.
 */
int fixture_dir_remove(const char *dir);

#endif
