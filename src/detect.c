/*
 * detect.c - content detection on any port (--detect): holds a connection's
 * first bytes, in arrival order, while the dissectors' probes (registry.c)
 * decide, then replays them to the one that recognised the connection. Owns
 * only the bytes held, bounded by DETECT_MAX per direction.
 */
#include "detect.h"

#include <string.h>

static enum probe_verdict detect_decide(const struct detect *d, const struct dissector **which)
{
	struct bytes to_server = bytes_of(d->buf[DIR_TO_SERVER], d->n[DIR_TO_SERVER]);
	struct bytes to_client = bytes_of(d->buf[DIR_TO_CLIENT], d->n[DIR_TO_CLIENT]);
	bool undecided = false;
	for (size_t i = 0; i < n_dissectors; i++) {
		if (!dissectors[i]->probe)
			continue;
		enum probe_verdict v = dissectors[i]->probe(to_server, to_client);
		if (v == PROBE_YES) {
			*which = dissectors[i];
			return PROBE_YES;
		}
		undecided |= v == PROBE_MORE;
	}
	return undecided ? PROBE_MORE : PROBE_NO;
}

enum probe_verdict detect_feed(struct detect *d, enum dir dir, const uint8_t *p, size_t n,
			       const struct dissector **which)
{
	if (n > DETECT_MAX - d->n[dir] || d->nseg == DETECT_SEGS)
		return PROBE_NO; /* no verdict within the bound: not POP enough */
	memcpy(d->buf[dir] + d->n[dir], p, n);
	d->n[dir] += n;
	d->seg[d->nseg].dir = (uint8_t)dir;
	d->seg[d->nseg].len = (uint16_t)n;
	d->nseg++;
	return detect_decide(d, which);
}

void detect_replay(const struct detect *d, void (*fn)(void *ctx, enum dir dir, const uint8_t *p, size_t n),
		   void *ctx)
{
	size_t off[DIR_COUNT] = { 0, 0 };
	for (size_t i = 0; i < d->nseg; i++) {
		enum dir dir = (enum dir)d->seg[i].dir;
		fn(ctx, dir, d->buf[dir] + off[dir], d->seg[i].len);
		off[dir] += d->seg[i].len;
	}
}
