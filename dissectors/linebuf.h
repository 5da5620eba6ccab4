/*
 * linebuf.h - bounded line assembly for line-oriented protocols (POP3, POP2).
 *
 * Owns the bytes of one direction's partial line and nothing else. A line is
 * delivered without its line end; CRLF and bare LF both end a line. A line longer
 * than the bound is delivered truncated (flagged) and the rest of it, up to the
 * next LF, is skipped: memory never grows past the bound, parsing never stalls.
 */
#ifndef POPSIFT_LINEBUF_H
#define POPSIFT_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct linebuf {
	uint8_t *buf;
	size_t len;        /* bytes of the partial line held */
	size_t cap;        /* allocated */
	size_t max;        /* the bound: longest line kept, in bytes */
	bool discarding;   /* skipping the tail of an over-long line */
};

struct lb_line {
	const uint8_t *p; /* valid until the next linebuf call */
	size_t n;         /* without CR/LF */
	bool bare_lf;     /* ended in LF without CR */
	bool truncated;   /* longer than the bound; only the first `max` bytes are here */
};

enum lb_result {
	LB_NEED_MORE, /* all input consumed, no complete line yet */
	LB_LINE       /* *out holds a line; input advanced past its end */
};

void linebuf_init(struct linebuf *lb, size_t max);
void linebuf_free(struct linebuf *lb);
/* True when no partial line is held (the next byte starts a line). */
bool linebuf_empty(const struct linebuf *lb);
/* Drops any partial line and pending skip (after a gap). */
void linebuf_reset(struct linebuf *lb);

/*
 * Takes at most one line from (*buf, *len), advancing both past the bytes used.
 * Returns LB_LINE with *out filled, or LB_NEED_MORE when the input ran out (its
 * bytes are then held, within the bound). Returns LB_NEED_MORE on allocation
 * failure as well, having dropped the partial line.
 */
enum lb_result linebuf_take(struct linebuf *lb, const uint8_t **buf, size_t *len,
			    struct lb_line *out);

#endif
