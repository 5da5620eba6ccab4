/*
 * shard.c - --shard K/N (see shard.h): the option's text read strictly, and
 * the per-frame decision over pairhash.h's address-pair hash, whose formula
 * a kernel fanout and popsift's workers share.
 */
#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pairhash.h"

/* A decimal number from s to its end or the first '/'; -1 when there is none. */
static long shard_number(const char *s, const char **end)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *e;
	unsigned long v = strtoul(s, &e, 10);
	*end = e;
	return errno || v > SHARD_MAX ? SHARD_MAX + 1 : (long)v;
}

bool shard_parse(const char *text, struct shard *out, char *err, size_t err_len)
{
	const char *p = text, *slash;
	long k = shard_number(p, &slash);
	if (k < 0 || *slash != '/') {
		snprintf(err, err_len, "'%s' is not K/N: K is the shard (0 to N-1) and N the number "
			 "of shards, e.g. 0/4%s", text,
			 *text == '/' ? " (was the variable holding K empty?)" : "");
		return false;
	}
	const char *end;
	long n = shard_number(slash + 1, &end);
	if (n < 0 || *end) {
		snprintf(err, err_len, "'%s' is not K/N: N must be a number, e.g. 0/4", text);
		return false;
	}
	if (n < 1 || n > SHARD_MAX) {
		snprintf(err, err_len, "'%s': N must be from 1 to %d", text, SHARD_MAX);
		return false;
	}
	if (k >= n) {
		snprintf(err, err_len, "'%s': K must be from 0 to %ld (shards are numbered from 0)",
			 text, n - 1);
		return false;
	}
	*out = (struct shard){ (unsigned)k, (unsigned)n };
	return true;
}

bool shard_owns(const struct shard *s, const uint8_t *ip, size_t len)
{
	if (s->n <= 1)
		return true;
	uint32_t h;
	if (!ip || !pairhash_packet(ip, len, &h))
		return s->k == 0;
	return pairhash_bucket(h, s->n) == s->k;
}
