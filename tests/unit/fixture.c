/*
 * fixture.c - the unit tests' scratch directories (fixture.h).
 */
#include "fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int fixture_dir_create(const char *name, char *dir, size_t n)
{
	int len = snprintf(dir, n, "/tmp/popsift-test-%s.XXXXXX", name);
	if (len < 0 || (size_t)len >= n)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

/* One entry, after everything below it (FTW_DEPTH): a directory is empty by then. */
static int fixture_remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int fixture_dir_remove(const char *dir)
{
	/* FTW_PHYS: a symlink is an entry of its own, never the tree it points to */
	return nftw(dir, fixture_remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
