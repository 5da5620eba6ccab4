/*
 * detect.c - content detection of POP3 and POP2 on any port (--detect).
 *
 * A POP3 server speaks first with "+OK", and its client's first line is a
 * POP3 command; a POP2 server greets with "+ POP2". Requiring BOTH sides keeps
 * look-alikes out: a Redis server also answers "+OK", but its client never
 * sends USER or CAPA (Zeek's redis-50-pings capture is the test). Owns only the
 * bytes held while deciding, bounded by DETECT_MAX per direction.
 */
#include "detect.h"

#include <string.h>
#include <strings.h>

/* Commands a POP client can open with (after the greeting). */
static const char *const pop_openers[] = {
	"USER ", "APOP ", "AUTH", "CAPA", "STLS", "RPOP ", "UTF8", "LANG", "HELO ",
};

/* Length of the first complete line in p[0..n), or 0 when there is none yet. */
static size_t detect_line(const uint8_t *p, size_t n)
{
	const uint8_t *lf = memchr(p, '\n', n);
	return lf ? (size_t)(lf - p) + 1 : 0;
}

static bool detect_is_opener(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < sizeof(pop_openers) / sizeof(pop_openers[0]); i++) {
		size_t k = strlen(pop_openers[i]);
		if (n >= k && strncasecmp((const char *)p, pop_openers[i], k) == 0)
			return true;
	}
	return false;
}

static enum detect_verdict detect_decide(const struct detect *d)
{
	const uint8_t *s = d->buf[DIR_TO_CLIENT], *c = d->buf[DIR_TO_SERVER];
	size_t sl = detect_line(s, d->n[DIR_TO_CLIENT]);
	size_t cl = detect_line(c, d->n[DIR_TO_SERVER]);
	if (sl && sl >= 6 && memcmp(s, "+ POP2", 6) == 0)
		return DETECT_POP2;
	if (sl && (sl < 3 || strncasecmp((const char *)s, "+OK", 3) != 0))
		return DETECT_NOT_POP;
	if (cl && !detect_is_opener(c, cl))
		return DETECT_NOT_POP;
	if (sl && cl)
		return DETECT_POP3;
	return DETECT_MORE;
}

enum detect_verdict detect_feed(struct detect *d, enum dir dir, const uint8_t *p, size_t n)
{
	if (n > DETECT_MAX - d->n[dir] || d->nseg == DETECT_SEGS)
		return DETECT_NOT_POP; /* no verdict within the bound: not POP enough */
	memcpy(d->buf[dir] + d->n[dir], p, n);
	d->n[dir] += n;
	d->seg[d->nseg].dir = (uint8_t)dir;
	d->seg[d->nseg].len = (uint16_t)n;
	d->nseg++;
	return detect_decide(d);
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
