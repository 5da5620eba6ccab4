/*
 * linebuf.c - bounded line assembly (see linebuf.h).
 *
 * Lines that arrive whole are returned as pointers into the caller's input, so
 * the common case copies nothing; only a line split across calls is copied into
 * the buffer, which grows on demand up to the bound (so idle sessions stay small).
 */
#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

#define LINEBUF_INITIAL 256

void linebuf_init(struct linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void linebuf_free(struct linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

bool linebuf_empty(const struct linebuf *lb)
{
	return lb->len == 0 && !lb->discarding;
}

void linebuf_reset(struct linebuf *lb)
{
	lb->len = 0;
	lb->discarding = false;
}

/* Appends up to what the bound allows; returns the bytes that did not fit. */
static size_t lb_append(struct linebuf *lb, const uint8_t *p, size_t n)
{
	size_t room = lb->max - lb->len;
	size_t take = n < room ? n : room;
	if (lb->len + take > lb->cap) {
		size_t cap = lb->cap ? lb->cap : LINEBUF_INITIAL;
		while (cap < lb->len + take)
			cap *= 2;
		if (cap > lb->max)
			cap = lb->max;
		uint8_t *nb = realloc(lb->buf, cap);
		if (!nb) {
			lb->len = 0;
			lb->discarding = true;
			return n;
		}
		lb->buf = nb;
		lb->cap = cap;
	}
	memcpy(lb->buf + lb->len, p, take);
	lb->len += take;
	return n - take;
}

static void lb_finish_line(struct lb_line *out, const uint8_t *p, size_t n, bool truncated)
{
	out->truncated = truncated;
	out->bare_lf = true;
	if (!truncated && n > 0 && p[n - 1] == '\r') {
		n--;
		out->bare_lf = false;
	}
	out->p = p;
	out->n = n;
}

/* Skips input up to and including the next LF; returns false if none was found. */
static bool lb_skip_to_lf(struct linebuf *lb, const uint8_t **buf, size_t *len)
{
	const uint8_t *lf = memchr(*buf, '\n', *len);
	if (!lf) {
		*buf += *len;
		*len = 0;
		return false;
	}
	*len -= (size_t)(lf + 1 - *buf);
	*buf = lf + 1;
	lb->discarding = false;
	return true;
}

enum lb_result linebuf_take(struct linebuf *lb, const uint8_t **buf, size_t *len,
			    struct lb_line *out)
{
	if (lb->discarding && !lb_skip_to_lf(lb, buf, len))
		return LB_NEED_MORE;
	if (*len == 0)
		return LB_NEED_MORE;

	const uint8_t *lf = memchr(*buf, '\n', *len);
	size_t upto = lf ? (size_t)(lf - *buf) : *len;

	if (lf && lb->len == 0 && upto <= lb->max) {
		lb_finish_line(out, *buf, upto, false);
		*buf += upto + 1;
		*len -= upto + 1;
		return LB_LINE;
	}

	size_t left = lb_append(lb, *buf, upto);
	if (lb->discarding) /* allocation failed */
		return LB_NEED_MORE;
	*buf += upto;
	*len -= upto;
	if (left > 0) {
		/* Over the bound: deliver what fits, skip the rest of the line. */
		lb->discarding = true;
		lb_skip_to_lf(lb, buf, len);
		lb_finish_line(out, lb->buf, lb->len, true);
		lb->len = 0;
		return LB_LINE;
	}
	if (!lf)
		return LB_NEED_MORE;
	*buf += 1; /* the LF */
	*len -= 1;
	lb_finish_line(out, lb->buf, lb->len, false);
	lb->len = 0;
	return LB_LINE;
}
