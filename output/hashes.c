/*
 * hashes.c - writes the crackable material of each login to the --hashes file.
 * The lines are made by the dissectors (APOP: hashcat -m 20; CRAM-MD5: 10200;
 * NetNTLMv1/v2: 5500/5600; DIGEST-MD5: John's dmd5; SCRAM: popsift's record);
 * this file only owns the file: created 0600, never through a symlink.
 */
#include "hashes.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct hashes_out {
	struct writer w; /* first: output.c sees only this */
	FILE *fp;
};

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

/* A write error shows at the next flush (ferror), as for the events. */
static void hashes_auth(struct writer *w, const struct flow *f, const struct ev_auth *a)
{
	(void)f;
	FILE *fp = ((struct hashes_out *)w)->fp;
	if (!a->hash.n)
		return;
	/* A hash line never holds a line break: it is built from wire tokens split on them. */
	if (fwrite(a->hash.p, 1, a->hash.n, fp) == a->hash.n)
		fputc('\n', fp);
}

static bool hashes_flush(struct writer *w)
{
	FILE *fp = ((struct hashes_out *)w)->fp;
	return fflush(fp) == 0 && !ferror(fp);
}

static void hashes_free(struct writer *w)
{
	free(w);
}

static const struct writer_ops hashes_ops = {
	.auth = hashes_auth,
	.flush = hashes_flush,
	.free = hashes_free,
};

struct writer *hashes_writer_open(FILE *fp)
{
	struct hashes_out *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->w.ops = &hashes_ops;
	h->fp = fp;
	return &h->w;
}
