/*
 * lineproto.c - the line-protocol plumbing POP3 and POP2 share (see
 * lineproto.h): the pending-line queue, keyword lookup, and the gap and
 * data-after-QUIT anomalies.
 */
#include "lineproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LPQ_INITIAL 8 /* the ring's first size; it doubles up to max_lines */

void lpq_init(struct lp_queue *q, struct event_sink *sink, size_t max_lines, size_t max_bytes,
	      enum anomaly overflow)
{
	*q = (struct lp_queue){ .max_lines = max_lines, .max_bytes = max_bytes,
				.overflow = overflow, .sink = sink };
}

void lpq_release(struct lp_queue *q, struct lp_pending *c)
{
	q->bytes -= c->n;
	free(c->line);
	c->line = NULL;
	c->n = 0;
}

void lpq_free(struct lp_queue *q)
{
	while (q->len > 0) {
		struct lp_pending c = lpq_pop(q);
		lpq_release(q, &c);
	}
	free(q->ring);
	q->ring = NULL;
	q->cap = 0;
}

struct lp_pending lpq_pop(struct lp_queue *q)
{
	struct lp_pending c = *lpq_at(q, 0);
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return c;
}

struct lp_pending lpq_take(struct lp_queue *q, size_t i)
{
	struct lp_pending c = *lpq_at(q, i);
	for (; i + 1 < q->len; i++)
		*lpq_at(q, i) = *lpq_at(q, i + 1);
	q->len--;
	return c;
}

/* Doubles the ring (up to max_lines), keeping the order; false when it cannot. */
static bool lpq_grow(struct lp_queue *q)
{
	if (q->cap >= q->max_lines)
		return false;
	size_t cap = q->cap ? q->cap * 2 : LPQ_INITIAL;
	if (cap > q->max_lines)
		cap = q->max_lines;
	struct lp_pending *ring = calloc(cap, sizeof(*ring));
	if (!ring)
		return false;
	for (size_t i = 0; i < q->len; i++)
		ring[i] = *lpq_at(q, i);
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return true;
}

bool lpq_push(struct lp_queue *q, int id, const uint8_t *line, size_t n)
{
	if (q->len == q->cap && !lpq_grow(q) && q->cap == 0)
		return false;
	while (q->len > 0 && (q->len == q->cap || q->bytes + n > q->max_bytes)) {
		struct lp_pending old = lpq_pop(q);
		emit_anomaly(q->sink, q->overflow, DIR_TO_SERVER, old.line, old.n);
		lpq_release(q, &old);
	}
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return false;
	memcpy(copy, line, n);
	const uint8_t *sp = memchr(line, ' ', n);
	struct lp_pending *c = lpq_at(q, q->len);
	c->id = id;
	c->line = copy;
	c->n = n;
	c->argoff = sp ? (size_t)(sp - line) + 1 : n;
	q->len++;
	q->bytes += n;
	return true;
}

int lp_command(const struct lp_cmd *cmds, int count, const uint8_t *line, size_t n)
{
	const uint8_t *sp = memchr(line, ' ', n);
	size_t wn = sp ? (size_t)(sp - line) : n;
	if (wn == 0)
		return count;
	/* Case-folded first letters must agree: most rows are ruled out without strlen(). */
	uint8_t first = line[0] | 0x20;
	for (int i = 0; i < count; i++) {
		const char *kw = cmds[i].keyword;
		if (((uint8_t)kw[0] | 0x20) != first)
			continue;
		size_t kn = strlen(kw);
		if (kn == wn && kn > 0 && strncasecmp((const char *)line, kw, kn) == 0)
			return i;
	}
	return count;
}

void lp_gap(struct event_sink *sink, enum dir dir, size_t missing)
{
	char sample[32];
	int n = snprintf(sample, sizeof(sample), "%zu bytes", missing);
	emit_anomaly(sink, ANOM_GAP, dir, (const uint8_t *)sample, (size_t)n);
}

void lp_after_quit(struct event_sink *sink, enum anomaly id, bool *reported)
{
	if (!*reported)
		emit_anomaly(sink, id, DIR_TO_SERVER, NULL, 0);
	*reported = true;
}
