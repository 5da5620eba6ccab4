/*
 * hashes.c - writes the crackable material of each login to the --hashes file.
 * The lines are made by the dissectors (APOP: hashcat -m 20; CRAM-MD5: 10200;
 * NetNTLMv1/v2: 5500/5600; DIGEST-MD5: John's dmd5; SCRAM: popsift's record);
 * this file only owns the file: created 0600, never through a symlink.
 */
#include "hashes.h"

#include <fcntl.h>
#include <unistd.h>

FILE *hashes_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	FILE *fp = fdopen(fd, "w");
	if (!fp)
		close(fd);
	return fp;
}

bool hashes_write(FILE *fp, const struct ev_auth *a)
{
	if (!fp || !a->hash.n)
		return true;
	/* A hash line never holds a line break: it is built from wire tokens split on them. */
	return fwrite(a->hash.p, 1, a->hash.n, fp) == a->hash.n && fputc('\n', fp) != EOF;
}
